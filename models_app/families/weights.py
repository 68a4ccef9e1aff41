"""Weight files a package ships, trusted only by a checksum pinned in our code.

A built-in model's weights come from an installed wheel (sevenn, chgnet). Before a loader
hands such a file to its package (which unpickles it), the file's SHA-256 must equal the value
pinned in ``models_app.builtin``; a different package build with other weights is refused
rather than silently giving other numbers under the same model name.
"""

import hashlib
from pathlib import Path

from models_app.families import ModelLoadError

_checked: dict[tuple[str, float, int], str] = {}


def sha256_of(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    if key not in _checked:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _checked[key] = digest.hexdigest()
    return _checked[key]


def verify(path: Path, expected: str | None, what: str) -> str:
    """The file's checksum; ``ModelLoadError`` when a pinned ``expected`` does not match."""
    if not path.is_file():
        raise ModelLoadError(f"{what}: weight file {path.name} is missing")
    actual = sha256_of(path)
    if expected and actual != expected:
        raise ModelLoadError(
            f"{what}: weight file {path.name} has SHA-256 {actual[:12]}…, pinned {expected[:12]}… "
            "(a different package build?); refusing to load it"
        )
    return actual
