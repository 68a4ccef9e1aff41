"""Storing a structure: stream to WORKDIR with a size limit and SHA-256, parse, then save the row.

Nothing half-written survives a failure: the file is staged under WORKDIR/tmp and only moved
into ``raw/<project>/`` after it parsed; the row is created last. Parsing runs in a child process
with memory, CPU and wall-time limits (``parse_upload``), never in the web process's memory.
"""

import json
import logging
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.db import transaction

from mofsim_site.files import UploadTooLarge, file_chunks, safe_filename, stage_upload
from mofsim_site.limited import LimitExceeded, Limits, run_limited
from structures_app.models import Structure
from structures_app.parsers import ParsedStructure, StructureError, StructureLimits

logger = logging.getLogger(__name__)


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
    staged = stage_upload(chunks, filename, limit)  # UploadTooLarge past the limit
    try:
        processed = settings.WORKDIR / "processed" / f"{staged.sha256}.extxyz"
        processed.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=processed.parent, suffix=".tmp")
        os.close(fd)
        try:
            parsed = parse_upload(staged.path, staged.filename, Path(tmp_name))
            Path(tmp_name).replace(processed)
        finally:
            Path(tmp_name).unlink(missing_ok=True)
        final = staged.promote(settings.WORKDIR / "raw" / safe_filename(project, "default"))
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


def structure_limits() -> StructureLimits:
    return StructureLimits(
        max_atoms=settings.STRUCTURE_MAX_ATOMS,
        min_distance=settings.STRUCTURE_MIN_DISTANCE_A,
        max_cell_length=settings.STRUCTURE_MAX_CELL_LENGTH_A,
        min_density=settings.STRUCTURE_MIN_DENSITY_G_CM3,
        max_density=settings.STRUCTURE_MAX_DENSITY_G_CM3,
    )


def parse_upload(path: Path, filename: str, out_path: Path) -> ParsedStructure:
    """Parse ``path`` in a limited child; it writes the atoms to ``out_path`` (extXYZ)."""
    limits = Limits(
        memory_bytes=settings.PARSE_MAX_MEMORY_MB * 2**20,
        cpu_seconds=settings.PARSE_MAX_CPU_S,
        wall_seconds=settings.PARSE_TIMEOUT_S,
        file_bytes=settings.PARSE_MAX_OUTPUT_BYTES,
    )
    args = [str(path), filename, str(out_path), json.dumps(asdict(structure_limits()))]
    try:
        out = run_limited("structures_app.parse_child", args, limits)
    except LimitExceeded as exc:
        logger.warning("structure parse of %s stopped: %s", filename, exc)
        raise StructureError(f"parsing stopped: it {exc}; the structure is too large or malformed") from exc
    if not out.get("ok"):
        raise StructureError(str(out.get("error", "could not parse the file")))
    return ParsedStructure(**out["summary"])


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
