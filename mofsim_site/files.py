"""Streaming uploads into WORKDIR: size limit, SHA-256, safe names, nothing outside WORKDIR.

Used by every upload (structures, model files, datasets) so the rules live in one place. The
data goes to a temporary file under ``WORKDIR/tmp`` first; callers validate it and then
``promote`` it to its final place, so a rejected upload leaves nothing behind.

Request bodies are capped before they are read: ``body_limit(path)`` is the largest body a URL
accepts (the per-endpoint upload settings, ``DATA_UPLOAD_MAX_MEMORY_SIZE`` elsewhere). It is
enforced on the declared Content-Length (``mofsim_site.middleware.BodyLimitMiddleware``, and
``mofsim_site.asgi_limits`` for daphne before Django spools the body), and while streaming:
``LimitedUploadHandler`` counts multipart file bytes as they arrive and stops the upload at the
limit instead of spooling gigabytes first.
"""

import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

# Room for multipart boundaries, headers and the small form fields next to the file.
MULTIPART_SLACK = 1024 * 1024
# URL -> the setting holding the largest file it takes; every other URL gets DATA_UPLOAD_MAX_MEMORY_SIZE.
UPLOAD_ROUTES = [
    (re.compile(r"^/(api/v1/structures|structures/upload)/$"), "STRUCTURE_UPLOAD_MAX_BYTES"),
    (re.compile(r"^/(api/v1/)?models/$"), "MODEL_UPLOAD_MAX_BYTES"),
    (re.compile(r"^/(api/v1/datasets/(import-sqlite/?)?|models/datasets/)$"), "DATASET_UPLOAD_MAX_BYTES"),
    (re.compile(r"^/api/v1/jobs/[^/]+/artifacts/?$"), "TRAINING_ARTIFACT_MAX_BYTES"),
]


class UploadError(ValueError):
    pass


class UploadTooLarge(UploadError):
    pass


def file_limit(path: str) -> int | None:
    """The largest uploaded file ``path`` accepts, or None when it takes no files."""
    for pattern, setting in UPLOAD_ROUTES:
        if pattern.match(path):
            return getattr(settings, setting)
    return None


def body_limit(path: str) -> int:
    """The largest request body ``path`` accepts, in bytes."""
    limit = file_limit(path)
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE if limit is None else limit + MULTIPART_SLACK


class LimitedUploadHandler(FileUploadHandler):
    """First upload handler: counts file bytes and stops the upload once past the URL's limit.

    It marks the request (``request.upload_too_large`` = the limit) and ``BodyLimitMiddleware``
    turns that into a 413, whatever the view made of the truncated form.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = file_limit(request.path) if request is not None else None
        if self.limit is None:
            self.limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.upload_too_large = self.limit
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size):
        return None


def safe_filename(name: str, default: str = "upload") -> str:
    """A name that cannot leave its directory: basename only, ASCII letters/digits/._- only."""
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = Path(name.replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return name[:150] or default


class DataPathError(ValueError):
    """A user-given path that is not a valid path at all (too long, a NUL byte)."""


class PathOutside(DataPathError):
    """A user-given path that resolves outside the directories it may name."""


def resolve_data_path(value: str, base: Path | None = None, roots: tuple[Path, ...] = ()) -> Path:
    """The one resolver of data paths users give (training ``data_path``, a DFT reference file).

    ``value`` is absolute or relative to ``base`` (default WORKDIR). Symlinks and ``..`` are
    resolved before the check, so no path leaves WORKDIR (or the extra read-only ``roots``, e.g.
    the shipped reference data). Only reads the file system: what the path names is the caller's.
    """
    raw = Path(value)
    try:
        path = (raw if raw.is_absolute() else Path(base or settings.WORKDIR) / raw).resolve()
        path.exists()  # a name over 255 bytes raises here rather than in the caller's is_file()
    except (OSError, ValueError) as exc:
        raise DataPathError("not a valid path") from exc
    allowed = [Path(settings.WORKDIR).resolve(), *(Path(root).resolve() for root in roots)]
    if not any(path.is_relative_to(root) for root in allowed):
        raise PathOutside("resolves outside the allowed directories")
    return path


def within_workdir(path: Path) -> Path:
    """Resolve ``path`` and refuse anything outside WORKDIR."""
    resolved = Path(path).resolve()
    if not resolved.is_relative_to(settings.WORKDIR):
        raise UploadError("path leaves WORKDIR")
    return resolved


@dataclass
class StagedFile:
    path: Path
    sha256: str
    size: int
    filename: str  # sanitised original name

    def promote(self, directory: Path, name: str | None = None) -> Path:
        """Move into ``directory`` (inside WORKDIR) as ``<sha12>-<name>``; returns the final path."""
        directory = within_workdir(directory)
        directory.mkdir(parents=True, exist_ok=True)
        final = within_workdir(directory / f"{self.sha256[:12]}-{name or self.filename}")
        shutil.move(self.path, final)
        self.path = final
        return final

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def stage_upload(chunks, filename: str, limit: int) -> StagedFile:
    """Write ``chunks`` to a temp file under WORKDIR/tmp, enforcing ``limit`` bytes."""
    clean = safe_filename(filename)
    tmp_dir = settings.WORKDIR / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, suffix=Path(clean).suffix)
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(f"file is larger than the limit of {limit} bytes")
                digest.update(chunk)
                fh.write(chunk)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return StagedFile(Path(tmp_name), digest.hexdigest(), size, clean)


def file_chunks(path: Path, size: int = 1024 * 1024):
    with open(path, "rb") as fh:
        yield from iter(lambda: fh.read(size), b"")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in file_chunks(path):
        digest.update(chunk)
    return digest.hexdigest()
