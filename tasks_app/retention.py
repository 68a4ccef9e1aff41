"""Retention: free the disk (or bucket) of old artifacts while keeping every result.

A finished task's ``result`` (with provenance) stays in the database, so reports and
comparisons keep working; only the files (trajectories, CIFs, model.pth, logs) go, and the
task's log records that they were pruned.
"""

import shutil
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from tasks_app.choices import TERMINAL
from tasks_app.models import Task, TaskArtifact, TaskLogLine


def prune_artifacts(older_than_days: int, dry_run: bool = False, now=None) -> dict:
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    tasks = Task.objects.filter(status__in=TERMINAL, finished_at__lt=cutoff, artifacts__isnull=False).distinct()
    summary = {"tasks": 0, "files": 0, "bytes": 0}
    for task in tasks.iterator():
        artifacts = list(task.artifacts.all())
        summary["tasks"] += 1
        summary["files"] += len(artifacts)
        summary["bytes"] += sum(a.size_bytes for a in artifacts)
        if dry_run:
            continue
        for artifact in artifacts:
            default_storage.delete(artifact.path)
        TaskArtifact.objects.filter(task=task).delete()
        shutil.rmtree(settings.WORKDIR / "artifacts" / str(task.pk), ignore_errors=True)
        (settings.WORKDIR / "logs" / f"{task.pk}.log").unlink(missing_ok=True)
        TaskLogLine.objects.create(
            task=task, level="WARNING", source="platform",
            message=f"artifacts pruned by retention ({len(artifacts)} files); the result is kept",
        )  # fmt: skip
    return summary
