"""Streaming uploads into WORKDIR: size limit, SHA-256, safe names, nothing outside WORKDIR.

Used by every upload (structures, model files, datasets) so the rules live in one place. The
data goes to a temporary file under ``WORKDIR/tmp`` first; callers validate it and then
``promote`` it to its final place, so a rejected upload leaves nothing behind.
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


class UploadError(ValueError):
    pass


class UploadTooLarge(UploadError):
    pass


def safe_filename(name: str, default: str = "upload") -> str:
    """A name that cannot leave its directory: basename only, ASCII letters/digits/._- only."""
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = Path(name.replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    return name[:150] or default


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
