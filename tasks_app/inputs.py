"""The worker side of task inputs: a node on another machine fetches them from the server.

Results already travel back over HTTP (tasks_app.archive); this makes the inputs travel too,
so a GPU machine needs only PostgreSQL + Redis + the server's URL, not the server's disk
(DESIGN.md rule 6). With ``MOFSIM_SERVER_URL`` set, a structure's processed extXYZ and a
model's file are downloaded once (node-token auth, SHA-256 checked, temp file + rename, so a
crash never leaves a half file that looks complete) into the node cache at the same relative
path as on the server: ``<cache>/processed/<sha256>.extxyz``, ``<cache>/models/<file>``.
The cache is ``MOFSIM_NODE_CACHE_DIR``, by default this machine's WORKDIR.

Without ``MOFSIM_SERVER_URL`` the worker shares the server's WORKDIR and nothing here acts.
Both names on disk carry a checksum (the structure's, or the model upload's ``<sha12>-``
prefix), so a file already in the cache is the right one and is used as it is.
"""

import logging
import os
import tempfile
from pathlib import Path

import requests
from django.conf import settings

from mofsim_site import transfer
from mofsim_site.executors import ExecutorError
from mofsim_site.worker_config import worker_config

logger = logging.getLogger(__name__)


class InputUnavailable(ExecutorError):
    """A task input could not be fetched from the server (shown as the task's error)."""


def server_url() -> str:
    return worker_config().server_url


def cache_dir() -> Path:
    return worker_config().cache_dir


def ensure_local_structure(structure) -> Path | None:
    """The local processed extXYZ of ``structure``, downloaded if missing; None on the server's disk."""
    server = server_url()
    if not server:
        return None
    rel = structure.processed_path.relative_to(settings.WORKDIR)
    return _fetch(f"{server}/api/v1/nodes/inputs/structures/{structure.pk}", rel, None, f"structure {structure.name}")


def ensure_local_model(spec: dict) -> dict:
    """``spec`` with ``model_path`` pointing at a local copy of the file (downloaded if missing).

    Specs without a file (built-in models) and workers without ``MOFSIM_SERVER_URL`` get the
    spec back unchanged. The checksum stays in the spec, so the model cache key is the same.
    """
    server = server_url()
    if not server or not spec.get("model_path"):
        return spec
    try:
        rel = Path(spec["model_path"]).relative_to(settings.WORKDIR)
    except ValueError as exc:
        raise InputUnavailable(f"model file {spec['model_path']} is not under WORKDIR") from exc
    url = f"{server}/api/v1/nodes/inputs/models/{spec['name']}"
    local = _fetch(url, rel, spec.get("sha256") or None, f"model {spec['name']}")
    return {**spec, "model_path": str(local)}


def _fetch(url: str, rel: Path, expected_sha256: str | None, what: str) -> Path:
    root = cache_dir()
    target = (root / rel).resolve()
    if not target.is_relative_to(root):
        raise InputUnavailable(f"{what}: path {rel} leaves the node cache")
    if target.exists():
        os.utime(target)  # marks it recently used for prune_cache
        return target
    name, token = worker_config().credentials()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    headers = {"Authorization": f"Node {token}", "X-Node-Name": name}
    try:
        sha = transfer.download(url, tmp, expected_sha256, headers=headers)
        os.replace(tmp, target)  # atomic: another worker process may be fetching the same file
    except (transfer.TransferError, requests.RequestException, OSError) as exc:
        raise InputUnavailable(f"could not fetch {what} from the server: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("fetched %s into %s (sha256 %s…)", what, target, sha[:12])
    return target


def prune_cache(max_bytes: int, root: Path | None = None) -> list[Path]:
    """Keep downloaded inputs under ``max_bytes``: delete the least recently used first.

    Only the two download folders are considered (``processed/``, ``models/``); a file in use is
    safe to delete on Linux (open handles keep it) and is fetched again when next needed.
    """
    root = root or cache_dir()
    files = [p for sub in ("processed", "models") if (root / sub).is_dir() for p in (root / sub).iterdir()
             if p.is_file() and not p.name.endswith(".part")]  # fmt: skip
    files.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    total, removed = 0, []
    for path in files:
        total += path.stat().st_size
        if total > max_bytes:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
