"""Storing a training dataset: stream to WORKDIR with a size limit and SHA-256, validate, save.

Like structure uploads: the bytes go to a temporary file under ``<WORKDIR>/tmp`` first, are
validated there (in a child process under memory, CPU and time limits: ``models_app.datasets.child``),
and only then move to ``<WORKDIR>/raw/<project>/<sha12>-<name>``; the row is created last, so a
failed upload leaves nothing behind. ``SizeLimitedUploadHandler`` stops a
multipart upload as soon as it passes the limit instead of spooling gigabytes first.
"""

import json
import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import transaction

from models_app.choices import DatasetKind
from models_app.datasets import DatasetError
from models_app.datasets.sqlite_import import build_where
from models_app.models import TrainingDataset
from mofsim_site.files import UploadTooLarge, file_chunks, safe_filename, sha256_file, stage_upload
from mofsim_site.limited import LimitExceeded, Limits, run_limited

# extension -> (file_format, kind)
FORMATS = {
    ".fasta": ("fasta", DatasetKind.FASTA),
    ".fa": ("fasta", DatasetKind.FASTA),
    ".faa": ("fasta", DatasetKind.FASTA),
    ".csv": ("csv", DatasetKind.DMS),
    ".tsv": ("tsv", DatasetKind.DMS),
    ".extxyz": ("extxyz", DatasetKind.STRUCTURES),
    ".xyz": ("extxyz", DatasetKind.STRUCTURES),
}


def format_for(filename: str) -> tuple[str, str]:
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        raise DatasetError(f"unsupported file type {suffix or '(none)'!r}; use one of {', '.join(sorted(FORMATS))}")
    return FORMATS[suffix]


def _run_child(*args: str, stdin: bytes = b"") -> dict:
    limits = Limits(
        memory_bytes=settings.PARSE_MAX_MEMORY_MB * 2**20,
        cpu_seconds=settings.PARSE_MAX_CPU_S,
        wall_seconds=settings.PARSE_TIMEOUT_S,
        file_bytes=settings.PARSE_MAX_OUTPUT_BYTES,
    )
    try:
        out = run_limited("models_app.datasets.child", list(args), limits, stdin=stdin)
    except LimitExceeded as exc:
        raise DatasetError(f"processing stopped: it {exc}; the file is too large or malformed") from exc
    if not out.get("ok"):
        raise DatasetError(str(out.get("error", "could not read the file")))
    return out


def validate_file(path: Path, file_format: str) -> dict:
    """Summary dict (with ``n_records``) of a dataset file, or ``DatasetError`` (checked in a limited child)."""
    return _run_child("validate", str(path), file_format)["summary"]


def project_dir(project: str) -> Path:
    target = (settings.WORKDIR / "raw" / safe_filename(project, "default")).resolve()
    if not target.is_relative_to(settings.WORKDIR / "raw"):
        raise DatasetError("project leaves WORKDIR")
    target.mkdir(parents=True, exist_ok=True)
    return target


def temp_file(suffix: str = "") -> tuple[int, Path]:
    tmp_dir = settings.WORKDIR / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, suffix=suffix)
    return fd, Path(name)


def store_dataset(
    *,
    chunks,
    filename: str,
    owner,
    project: str | None = None,
    name: str | None = None,
    description: str = "",
    limit: int | None = None,
    extra_summary: dict | None = None,
) -> TrainingDataset:
    limit = limit or settings.DATASET_UPLOAD_MAX_BYTES
    clean = safe_filename(filename, "dataset")
    file_format, kind = format_for(clean)
    staged = stage_upload(chunks, clean, limit)
    try:
        summary = validate_file(staged.path, file_format)
        directory = project_dir(project or owner.get_username())
        target = directory / f"{staged.sha256[:12]}-{clean}"
        existing = TrainingDataset.objects.filter(path=str(target.relative_to(settings.WORKDIR))).first()
        if existing is not None:
            staged.discard()
            # Same bytes, same name, same project: one file on disk, and the caller gets that row.
            if existing.owner_id == owner.pk:
                return existing
            raise DatasetError("this file already exists in that project under another owner")
        staged.promote(directory, clean)
        with transaction.atomic():
            return TrainingDataset.objects.create(
                name=(name or Path(clean).stem)[:200],
                owner=owner,
                project=target.parent.name,
                kind=kind,
                file_format=file_format,
                path=str(target.relative_to(settings.WORKDIR)),
                sha256=staged.sha256,
                size_bytes=staged.size,
                n_records=summary.pop("n_records"),
                summary={**summary, **(extra_summary or {})},
                description=description,
            )
    except BaseException:
        staged.discard()
        raise


def store_uploaded(uploaded, owner, **kwargs) -> TrainingDataset:
    """From a Django ``UploadedFile`` (already on disk under WORKDIR/tmp if large)."""
    limit = settings.DATASET_UPLOAD_MAX_BYTES
    if uploaded.size is not None and uploaded.size > limit:
        raise UploadTooLarge(f"file is larger than the limit of {limit} bytes")
    return store_dataset(chunks=uploaded.chunks(), filename=uploaded.name, owner=owner, **kwargs)


def store_path(path: Path, owner, **kwargs) -> TrainingDataset:
    return store_dataset(chunks=file_chunks(path), filename=Path(path).name, owner=owner, **kwargs)


def import_sqlite(uploaded, owner, conditions, name: str | None = None, project: str | None = None) -> TrainingDataset:
    """Filter rows out of an uploaded SQLite file into a new DMS CSV dataset."""

    build_where(conditions)  # a bad filter is refused before the upload is even staged
    source = stage_upload(uploaded.chunks(), uploaded.name, settings.DATASET_UPLOAD_MAX_BYTES)
    out_fd, csv_tmp = temp_file(".csv")
    os.close(out_fd)
    try:
        rows = str(settings.DATASET_IMPORT_MAX_ROWS)
        counts = _run_child("export", str(source.path), str(csv_tmp), rows, stdin=json.dumps(conditions).encode())
        counts = counts["counts"]
        stem = Path(safe_filename(uploaded.name, "import")).stem
        return store_dataset(
            chunks=file_chunks(csv_tmp),
            filename=f"{stem}.csv",
            owner=owner,
            project=project,
            name=name or stem,
            extra_summary={"imported_from": {"sqlite_sha256": source.sha256, "filter": conditions, **counts}},
        )
    finally:
        source.discard()
        csv_tmp.unlink(missing_ok=True)


def dataset_in_place(path: Path, owner, name: str | None = None) -> TrainingDataset:
    """A file already under ``<WORKDIR>/raw/`` (copied there by an operator) as a dataset, unsaved.

    Validated (in the limited child) and checksummed, but nothing is written: the caller saves
    the row in its own explicit step (``models_app.training.server.register_datasets``)."""
    path = Path(path).resolve()
    if not path.is_relative_to(settings.WORKDIR / "raw") or not path.is_file():
        raise DatasetError("only files under WORKDIR/raw/ can be registered in place")
    limit = settings.DATASET_UPLOAD_MAX_BYTES
    if path.stat().st_size > limit:
        raise UploadTooLarge(f"file is larger than the limit of {limit} bytes")
    file_format, kind = format_for(path.name)
    summary = validate_file(path, file_format)
    return TrainingDataset(
        name=(name or path.stem)[:200],
        owner=owner,
        project=path.parent.name,
        kind=kind,
        file_format=file_format,
        path=str(path.relative_to(settings.WORKDIR)),
        sha256=sha256_file(path),
        size_bytes=path.stat().st_size,
        n_records=summary.pop("n_records"),
        summary=summary,
    )
