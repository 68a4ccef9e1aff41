"""Storing a structure: stream to WORKDIR with a size limit and SHA-256, parse, then save the row.

Nothing half-written survives a failure: the file is staged under WORKDIR/tmp and only moved
into ``raw/<project>/`` after it parsed; the row is created last.
"""

from pathlib import Path

from django.conf import settings
from django.db import transaction

from mofsim_site.files import UploadError, file_chunks, safe_filename, stage_upload
from structures_app.models import Structure
from structures_app.parsers import StructureError, parse_structure


class UploadTooLarge(StructureError):
    pass


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
    try:
        staged = stage_upload(chunks, filename, limit)
    except UploadError as exc:
        raise UploadTooLarge(str(exc)) from exc
    try:
        parsed = parse_structure(staged.path, staged.filename)
        final = staged.promote(settings.WORKDIR / "raw" / safe_filename(project, "default"))
        write_processed(parsed.atoms, staged.sha256)
        with transaction.atomic():
            return Structure.objects.create(
                name=name or Path(staged.filename).stem,
                owner=owner,
                source=source,
                path=str(final.relative_to(settings.WORKDIR)),
                file_format=parsed.file_format,
                sha256=staged.sha256,
                size_bytes=staged.size,
                formula=parsed.formula,
                n_atoms=parsed.n_atoms,
                volume=parsed.volume,
                periodic=parsed.periodic,
                elements=parsed.elements,
                cell_lengths=parsed.cell_lengths,
                cell_angles=parsed.cell_angles,
                reference=reference or {},
            )
    except BaseException:
        staged.discard()
        raise


def write_processed(atoms, sha256: str) -> Path:
    """Keep the parsed atoms as extXYZ so workers never re-parse (CIF symmetry is slow)."""
    from ase.io import write

    directory = settings.WORKDIR / "processed"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{sha256}.extxyz"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        write(tmp, atoms, format="extxyz")
        tmp.replace(path)
    return path


def store_uploaded_file(uploaded, owner, name=None) -> Structure:
    """From a Django ``UploadedFile`` (already streamed to a temp file by the upload handler)."""
    if uploaded.size is not None and uploaded.size > settings.STRUCTURE_UPLOAD_MAX_BYTES:
        raise UploadTooLarge(f"file is larger than the limit of {settings.STRUCTURE_UPLOAD_MAX_BYTES} bytes")
    return store_structure(
        chunks=uploaded.chunks(), filename=uploaded.name, owner=owner, project=owner.get_username(), name=name
    )


def store_path(path: Path, **kwargs) -> Structure:
    return store_structure(chunks=file_chunks(path), filename=Path(path).name, **kwargs)
