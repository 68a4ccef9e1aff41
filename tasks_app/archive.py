"""Recording a task's files as artifacts, on local disk or in object storage.

One place decides where an artifact lives (``artifacts/<task_id>/<name>``, under WORKDIR or in
the configured storage) for both paths that produce them: the worker archiving its work
directory, and a remote worker uploading files through the API.
"""

import os
import shutil
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage

from mofsim_site.files import UploadError, safe_filename, sha256_file, within_workdir
from tasks_app.models import TaskArtifact


def local_storage() -> bool:
    return isinstance(default_storage, FileSystemStorage) and Path(default_storage.location) == settings.WORKDIR


def store_file(task, path: Path, name: str | None = None, sha256: str | None = None, move: bool = False):
    """Put ``path`` in place as artifact ``name`` of ``task`` and record it."""
    name = safe_filename(name or Path(path).name, "artifact")
    key = f"artifacts/{task.pk}/{name}"
    sha256 = sha256 or sha256_file(path)
    size = Path(path).stat().st_size
    if local_storage():
        dest = within_workdir(settings.WORKDIR / key)
        if not dest.is_relative_to(settings.WORKDIR / "artifacts" / str(task.pk)):
            raise UploadError("bad artifact name")
        if Path(path).resolve() != dest:
            dest.parent.mkdir(parents=True, exist_ok=True)
            (shutil.move if move else shutil.copyfile)(path, dest)
    else:
        if default_storage.exists(key):
            default_storage.delete(key)
        with open(path, "rb") as fh:
            default_storage.save(key, File(fh))
    artifact, _ = TaskArtifact.objects.update_or_create(
        task=task, name=name, defaults={"path": key, "size_bytes": size, "sha256": sha256}
    )
    return artifact


def archive_artifacts(task, workdir: Path) -> list:
    """Register every file in ``workdir`` (artifacts/<task_id>/) as an artifact of ``task``.

    On a node on another machine (``MOFSIM_SERVER_URL`` set) with the server's storage on its
    own disk, the files go to the server through the node-authenticated artifact upload API
    instead, so no shared disk is needed for results.
    """
    files = sorted(p for p in Path(workdir).iterdir() if p.is_file())
    server = os.environ.get("MOFSIM_SERVER_URL", "")
    if server and local_storage():
        from tasks_app.training.transfer import upload_artifact

        name, token = os.environ["MOFSIM_NODE_NAME"], os.environ["MOFSIM_NODE_TOKEN"]
        return [upload_artifact(server, task.pk, name, token, path) for path in files]
    return [store_file(task, path) for path in files]
