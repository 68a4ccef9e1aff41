"""Recording a task's files as artifacts, on local disk or in object storage."""

import hashlib
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage

from tasks_app.models import TaskArtifact


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def archive_artifacts(task, workdir: Path) -> list[TaskArtifact]:
    """Register every file in ``workdir`` (artifacts/<task_id>/) as an artifact of ``task``.

    With the default filesystem storage rooted at WORKDIR the files are already in place; with
    S3 storage they are uploaded under the same key.
    """
    local = isinstance(default_storage, FileSystemStorage) and Path(default_storage.location) == settings.WORKDIR
    out = []
    for path in sorted(p for p in Path(workdir).iterdir() if p.is_file()):
        key = f"artifacts/{task.pk}/{path.name}"
        if not local:
            if default_storage.exists(key):
                default_storage.delete(key)
            with open(path, "rb") as fh:
                default_storage.save(key, File(fh))
        artifact, _ = TaskArtifact.objects.update_or_create(
            task=task,
            name=path.name,
            defaults={"path": key, "size_bytes": path.stat().st_size, "sha256": sha256_file(path)},
        )
        out.append(artifact)
    return out
