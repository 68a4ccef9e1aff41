"""Model weights from a hub: downloaded once per node, cached under ``<root>/<family>/``, checksummed.

A model whose weights are not a registered file names where they come from: ``weights_url`` in
its config (any http(s) URL), or, when the family's loader defines ``hub_url(spec)``, the URL
the family's own package would download from (ORB: the checkpoint URL its factory defaults to).
``cached_weights`` fetches that URL on a worker node into
``<root>/<family>/<sha256(url)[:16]>/<file name>`` and returns the file with its SHA-256; the
loader is then given the local file, so the package itself downloads nothing.

* **Checked on every load.** ``expected`` (the checksum recorded on the model row at the first
  download, or pinned by staff at registration) must equal the file's SHA-256, for a fresh
  download and for a cached file alike; a mismatch refuses to load ("refusing to load it").
* **Concurrent workers.** One ``flock`` per cached file serialises its download; the bytes go to
  a temporary file in the same directory and are renamed into place only after the checksum
  matched, so no process ever sees a half-written or unverified file under the final name.
* **Never in the web process** (``mofsim_site.roles``): the web entry points mark their process,
  and a download there raises ``HubDownloadRefused`` before any connection is made.

Plain Python (no Django): it runs in every worker environment, including per-family venvs.
"""

import fcntl
import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from models_app.families import ModelLoadError, get, weights
from mofsim_site import roles

CHUNK = 1 << 20
TIMEOUT_S = 60


class HubDownloadRefused(ModelLoadError):
    """A hub download was attempted where none may happen (the web process)."""


def source_url(spec: dict) -> str | None:
    """Where the model's weights come from when they are not a file: config or the family's own URL."""
    if spec.get("model_path"):
        return None
    url = spec.get("weights_url")
    if url:
        return str(url)
    hub_url = getattr(get(spec.get("family", "")).loader(), "hub_url", None)
    return hub_url(spec) if hub_url is not None else None


def cache_path(root: Path, family: str, url: str) -> Path:
    """``<root>/<family>/<sha256(url)[:16]>/<file name>``: one directory per URL, a safe name."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ModelLoadError(f"weights URL {url!r} is not an http(s) URL")
    if not re.fullmatch(r"[a-z0-9_]+", family):
        raise ModelLoadError(f"model family {family!r} is not a plain name")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", Path(urllib.parse.unquote(parsed.path)).name).lstrip(".") or "weights"
    return Path(root) / family / hashlib.sha256(url.encode()).hexdigest()[:16] / name[:200]


def cached_weights(url: str, family: str, root: Path, expected: str | None = None) -> tuple[Path, str]:
    """The local copy of ``url`` (downloaded on first use) and its SHA-256, checked against ``expected``."""
    target = cache_path(root, family, url)
    what = f"{family} weights from {url}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes (also if this process dies)
        if not target.is_file():
            _download(url, target, expected, what)
        return target, weights.verify(target, expected, what)


def _download(url: str, target: Path, expected: str | None, what: str) -> None:
    if roles.is_web_process():
        raise HubDownloadRefused(f"{what}: the web process never downloads model weights; a worker node does")
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - scheme checked in cache_path
            for chunk in iter(lambda: response.read(CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        actual = digest.hexdigest()
        if expected and actual != expected:
            raise ModelLoadError(
                f"{what}: downloaded file has SHA-256 {actual[:12]}…, recorded {expected[:12]}…; refusing to load it"
            )
        os.replace(tmp, target)  # atomic: the final name only ever holds a complete, checked file
    except (urllib.error.URLError, OSError) as exc:
        raise ModelLoadError(f"{what}: download failed: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
