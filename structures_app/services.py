"""Storing a structure: stream to WORKDIR with a size limit and SHA-256, parse, then save the row.

Nothing half-written survives a failure: the file is first written to a temporary name and
only moved into ``raw/<project>/`` after it parsed; the row is created last.
"""

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction

from structures_app.models import Structure
from structures_app.parsers import StructureError, parse_structure, safe_filename


class UploadTooLarge(StructureError):
    pass


def within_workdir(path: Path) -> Path:
    """Resolve ``path`` and refuse anything outside WORKDIR."""
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(settings.WORKDIR):
        raise StructureError("path leaves WORKDIR")
    return resolved


def _copy_limited(chunks, dest, limit: int) -> str:
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(f"file is larger than the limit of {limit} bytes")
        digest.update(chunk)
        dest.write(chunk)
    return digest.hexdigest()


def store_structure(
    *,
    chunks,
    filename: str,
    owner,
    project: str,
    name: str | None = None,
    source=Structure.Source.UPLOAD,
    reference: dict | None = None,
    limit: int | None = None,
) -> Structure:
    limit = limit or settings.STRUCTURE_UPLOAD_MAX_BYTES
    clean_name = safe_filename(filename)
    target_dir = within_workdir(settings.WORKDIR / "raw" / safe_filename(project, "default"))
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=settings.WORKDIR / "tmp", suffix=Path(clean_name).suffix)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            sha = _copy_limited(chunks, fh, limit)
        parsed = parse_structure(tmp, clean_name)
        final = within_workdir(target_dir / f"{sha[:12]}-{clean_name}")
        shutil.move(tmp, final)
        with transaction.atomic():
            return Structure.objects.create(
                name=name or Path(clean_name).stem,
                owner=owner,
                source=source,
                path=str(final.relative_to(settings.WORKDIR)),
                file_format=parsed.file_format,
                sha256=sha,
                size_bytes=final.stat().st_size,
                formula=parsed.formula,
                n_atoms=parsed.n_atoms,
                volume=parsed.volume,
                periodic=parsed.periodic,
                elements=parsed.elements,
                cell_lengths=parsed.cell_lengths,
                cell_angles=parsed.cell_angles,
                reference=reference or {},
            )
    finally:
        tmp.unlink(missing_ok=True)


def store_uploaded_file(uploaded, owner, name=None) -> Structure:
    """From a Django ``UploadedFile`` (already streamed to a temp file by the upload handler)."""
    if uploaded.size is not None and uploaded.size > settings.STRUCTURE_UPLOAD_MAX_BYTES:
        raise UploadTooLarge(f"file is larger than the limit of {settings.STRUCTURE_UPLOAD_MAX_BYTES} bytes")
    return store_structure(
        chunks=uploaded.chunks(), filename=uploaded.name, owner=owner, project=owner.get_username(), name=name
    )


def store_path(path: Path, **kwargs) -> Structure:
    with open(path, "rb") as fh:
        return store_structure(chunks=iter(lambda: fh.read(1024 * 1024), b""), filename=Path(path).name, **kwargs)
