"""Recording a task's files as artifacts, on local disk or in object storage.

One place decides where an artifact lives — ``artifacts/<task_id>/a<attempt>/<name>``, under
WORKDIR or in the configured storage — for both paths that produce them: the worker archiving
its attempt's work directory, and a remote worker uploading files through the API. Attempts
never share a folder, so a stale attempt can only write into its own, and only the rows of the
attempt that finished the task (recorded in the same transaction as its final state) are kept.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, Http404

from mofsim_site.files import UploadError, safe_filename, sha256_file, within_workdir
from mofsim_site.transfer import upload_artifact
from mofsim_site.worker_config import worker_config
from tasks_app.models import TaskArtifact


@dataclass
class StoredFile:
    name: str
    path: str
    size_bytes: int
    sha256: str


def local_storage() -> bool:
    return isinstance(default_storage, FileSystemStorage) and Path(default_storage.location) == settings.WORKDIR


def attempt_key(task_id, attempt: int) -> str:
    return f"artifacts/{task_id}/a{attempt}"


def put_file(task_id, attempt: int, path: Path, name: str | None = None, sha256: str | None = None,
             move: bool = False) -> StoredFile:  # fmt: skip
    """Put ``path`` in place as artifact ``name`` of one attempt of a task (no database row)."""
    name = safe_filename(name or Path(path).name, "artifact")
    folder = attempt_key(task_id, attempt)
    key = f"{folder}/{name}"
    sha256 = sha256 or sha256_file(path)
    size = Path(path).stat().st_size
    if local_storage():
        dest = within_workdir(settings.WORKDIR / key)
        if not dest.is_relative_to(settings.WORKDIR / folder):
            raise UploadError("bad artifact name")
        if Path(path).resolve() != dest:
            dest.parent.mkdir(parents=True, exist_ok=True)
            (shutil.move if move else shutil.copyfile)(path, dest)
    else:
        if default_storage.exists(key):
            default_storage.delete(key)
        with open(path, "rb") as fh:
            default_storage.save(key, File(fh))
    return StoredFile(name, key, size, sha256)


def record(task_id, attempt: int, files: list[StoredFile]) -> list[TaskArtifact]:
    """Make ``files`` the task's artifacts (call inside the transaction that fences the attempt).

    One upsert for all files; an earlier attempt's rows (there are none for attempt 1) go first."""
    if attempt > 1:
        TaskArtifact.objects.filter(task_id=task_id).exclude(attempt=attempt).delete()
    if not files:
        return []
    return TaskArtifact.objects.bulk_create(
        artifact_rows(task_id, attempt, files), update_conflicts=True, unique_fields=["task", "attempt", "name"],
        update_fields=["path", "size_bytes", "sha256"],
    )  # fmt: skip


def artifact_rows(task_id, attempt: int, files: list[StoredFile]) -> list[TaskArtifact]:
    """The (unsaved) rows ``record`` writes for ``files``, by name."""
    return [TaskArtifact(task_id=task_id, attempt=attempt, name=f.name, path=f.path, size_bytes=f.size_bytes,
                         sha256=f.sha256) for f in sorted(files, key=lambda f: f.name)]  # fmt: skip


def store_file(task, path: Path, name: str | None = None, sha256: str | None = None, move: bool = False):
    """Put one file in place for the task's current attempt and record it (the node upload path)."""
    stored = put_file(task.pk, task.attempts, path, name, sha256, move)
    artifact, _ = TaskArtifact.objects.update_or_create(
        task=task, attempt=task.attempts, name=stored.name,
        defaults={"path": stored.path, "size_bytes": stored.size_bytes, "sha256": stored.sha256},
    )  # fmt: skip
    return artifact


def archive_files(task, lease, workdir: Path, hashes: dict[str, str] | None = None) -> list[StoredFile]:
    """Store every file of the attempt's ``workdir``; returns what ``record`` should register.

    ``hashes``: the SHA-256 of files the caller wrote and hashed from memory, by name (only the
    others are read back to hash). On local storage the folder is the files' final place: no copy.

    On a node on another machine (``MOFSIM_SERVER_URL`` set) with the server's storage on its
    own disk, the files go to the server through the node-authenticated artifact upload API,
    which checks the lease and records them itself; nothing is left to record here.
    """
    files = sorted(p for p in Path(workdir).iterdir() if p.is_file())
    config = worker_config()
    if config.remote and local_storage():
        name, token = config.credentials()
        for path in files:
            upload_artifact(config.server_url, task.pk, name, token, path, lease_token=str(lease.token))
        return []
    known = hashes or {}
    if _is_final_place(task.pk, lease.attempt, Path(workdir)):
        return [_in_place(task.pk, lease.attempt, path, known.get(path.name)) for path in files]
    return [put_file(task.pk, lease.attempt, path, sha256=known.get(path.name)) for path in files]


def _is_final_place(task_id, attempt: int, workdir: Path) -> bool:
    """Whether ``workdir`` is the attempt's artifact folder on local storage, named canonically
    (no symlink or ``..`` in it), so each plain file in it is already where ``put_file`` would
    put it: one ``resolve`` for the folder instead of two per file (issue 12)."""
    if not local_storage():
        return False
    folder = settings.WORKDIR / attempt_key(task_id, attempt)
    return workdir.resolve() == folder == Path(workdir)


def _in_place(task_id, attempt: int, path: Path, sha256: str | None) -> StoredFile:
    """What ``put_file`` returns for a file already in its final place (nothing to copy); a symlink
    or a name ``safe_filename`` would change takes ``put_file`` itself (which refuses or copies)."""
    name = path.name
    if path.is_symlink() or safe_filename(name, "artifact") != name:
        return put_file(task_id, attempt, path, sha256=sha256)
    return StoredFile(name, f"{attempt_key(task_id, attempt)}/{name}", path.stat().st_size,
                      sha256 or sha256_file(path))  # fmt: skip


def artifact_response(task, name: str) -> FileResponse:
    """Stream one archived artifact (local disk or object storage); Django's 404 if there is none,
    which pages and the API (DRF maps ``Http404``) both answer properly."""
    artifact = task.artifacts.filter(name=name).order_by("-attempt").first()
    if artifact is None:
        raise Http404(f"task has no artifact {name!r}")
    handle = default_storage.open(artifact.path, "rb")
    return FileResponse(handle, as_attachment=True, filename=f"{str(task.pk)[:8]}-{artifact.name}")
