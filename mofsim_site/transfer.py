"""Moving job data over HTTP (no Django): download with checksum, artifact upload, scratch pruning."""

import hashlib
import shutil
from pathlib import Path

import requests

from mofsim_site.files import sha256_file

CHUNK = 1024 * 1024


class TransferError(Exception):
    pass


def download(
    url: str, dest: Path, expected_sha256: str | None = None, timeout: float = 60, headers: dict | None = None
) -> str:
    """Stream ``url`` to ``dest``; verify the SHA-256 (a mismatch deletes the file and raises).

    Checked against ``expected_sha256`` when the caller knows it, and against the server's
    ``X-Content-SHA256`` header when it sends one (a derived file, e.g. a processed structure,
    has no checksum the caller could know beforehand). ``headers`` carry e.g. a node token.
    """
    digest = hashlib.sha256()
    with requests.get(url, stream=True, timeout=timeout, headers=headers) as response:
        if response.status_code != 200:
            raise TransferError(f"data download failed: HTTP {response.status_code} {response.text[:200]}")
        announced = response.headers.get("X-Content-SHA256")
        with open(dest, "wb") as fh:
            for chunk in response.iter_content(CHUNK):
                digest.update(chunk)
                fh.write(chunk)
    sha = digest.hexdigest()
    for wanted in (expected_sha256, announced):
        if wanted and sha != wanted:
            Path(dest).unlink(missing_ok=True)
            raise TransferError(f"downloaded data has SHA-256 {sha[:12]}…, expected {wanted[:12]}…")
    return sha


def upload_artifact(server: str, task_id, node_name: str, token: str, path: Path, timeout: float = 600,
                    lease_token: str | None = None) -> dict:  # fmt: skip
    """``POST {server}/api/v1/jobs/{task_id}/artifacts`` (multipart, node token); the server's JSON.

    ``lease_token`` (sent as ``X-Mofsim-Lease``) proves the upload comes from the attempt that
    holds the task; the server refuses files from an attempt that lost it."""
    sha = sha256_file(path)
    with open(path, "rb") as fh:
        response = requests.post(
            f"{server.rstrip('/')}/api/v1/jobs/{task_id}/artifacts",
            headers={
                "Authorization": f"Node {token}",
                "X-Node-Name": node_name,
                **({"X-Mofsim-Lease": lease_token} if lease_token else {}),
            },  # fmt: skip
            files={"file": (Path(path).name, fh)},
            data={"sha256": sha},
            timeout=timeout,
        )
    if response.status_code not in (200, 201):
        raise TransferError(f"upload of {Path(path).name} failed: HTTP {response.status_code} {response.text[:300]}")
    body = response.json()
    if body.get("sha256") != sha:
        raise TransferError(f"server stored {Path(path).name} with a different checksum")
    return body


def prune(root: Path, keep: int, protect: Path | None = None) -> list[Path]:
    """Delete all but the ``keep`` most recent job directories under ``root`` (``protect`` stays)."""
    root = Path(root)
    if not root.is_dir():
        return []
    dirs = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    removed = []
    for path in dirs[max(keep, 0) :]:
        if protect is not None and path.resolve() == Path(protect).resolve():
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
