"""Retention: rows and files of old finished tasks go; every task row and its result stay.

Three policies (settings; docs/operations.md "Retention"):

- ``TASK_ROW_RETENTION_DAYS``: the log lines, metric points, attempt history and callback
  deliveries of a task finished longer ago are deleted and the task is stamped
  ``rows_pruned_at``. The result (with provenance) stays in the task row; the log and the metric
  series stay as files among its artifacts (task.log, metrics.json) until those are pruned.
- ``TASK_ARTIFACT_RETENTION_DAYS`` (or ``manage.py prune_artifacts --older-than``): the files
  and their rows go; the task's log notes it.
- ``DRAMATIQ_MESSAGE_RETENTION_S``: django_dramatiq's admin rows of finished messages.

Only tasks in a terminal state with ``finished_at`` before the cutoff are touched, so nothing a
queued or running task needs is deleted. Every function works in bounded batches (a ``LIMIT``ed
read of an index head, then ``DELETE … WHERE id IN``) and stops at ``deadline`` (a
``time.monotonic()`` value), so housekeeping can call it every pass whatever the table sizes;
the management commands call it until nothing is left.
"""

import shutil
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Model
from django.utils import timezone
from django_dramatiq.models import Task as DramatiqMessage

from tasks_app.choices import TERMINAL
from tasks_app.models import CallbackDelivery, Task, TaskArtifact, TaskAttempt, TaskLogLine, TaskMetricPoint

TASKS_PER_BATCH = 100
# Rows a finished task leaves behind besides its own row, by summary key.
TASK_ROWS: dict[str, type[Model]] = {
    "log_lines": TaskLogLine,
    "metric_points": TaskMetricPoint,
    "attempts": TaskAttempt,
    "callback_deliveries": CallbackDelivery,
}
FINISHED_MESSAGES = (DramatiqMessage.STATUS_DONE, DramatiqMessage.STATUS_FAILED, DramatiqMessage.STATUS_SKIPPED)


def _expired(deadline: float | None) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _delete_batch(queryset, batch: int) -> int:
    """Delete up to ``batch`` rows of ``queryset`` (one LIMITed SELECT, one DELETE by id)."""
    pks = list(queryset.order_by().values_list("pk", flat=True)[:batch])
    if pks:
        queryset.model.objects.filter(pk__in=pks).delete()
    return len(pks)


def prune_task_rows(
    now: datetime | None = None, older_than_days: int | None = None, deadline: float | None = None,
    batch: int | None = None,
) -> dict:  # fmt: skip
    """Delete the per-task rows of tasks finished more than ``older_than_days`` ago.

    Tasks are taken ``TASKS_PER_BATCH`` at a time, oldest finished first, from the head of the
    partial index ``task_unpruned_idx``; a task is stamped ``rows_pruned_at`` once all its rows
    are gone, so a pass never reads a task twice. Returns the rows deleted per kind and the
    number of tasks completed."""
    now = now or timezone.now()
    days = settings.TASK_ROW_RETENTION_DAYS if older_than_days is None else older_than_days
    batch = batch or settings.HOUSEKEEPING_BATCH_ROWS
    summary = dict.fromkeys(["tasks", *TASK_ROWS], 0)
    if days <= 0:
        return summary
    old = Task.objects.filter(finished_at__lt=now - timedelta(days=days), rows_pruned_at__isnull=True)
    old = old.filter(status__in=TERMINAL).order_by("finished_at")
    while not _expired(deadline):
        ids = list(old.values_list("pk", flat=True)[:TASKS_PER_BATCH])
        if not ids:
            break
        for key, model in TASK_ROWS.items():
            while True:
                if _expired(deadline):
                    return summary  # the next pass goes on with the same tasks
                deleted = _delete_batch(model.objects.filter(task_id__in=ids), batch)
                summary[key] += deleted
                if deleted < batch:
                    break
        summary["tasks"] += Task.objects.filter(pk__in=ids).update(rows_pruned_at=now)
    return summary


# Where the message-table scan stopped (per process): rows still enqueued or running are skipped
# over rather than read again every pass; at the end of the table it starts again from the top.
_message_scan: dict[str, datetime | None] = {"after": None}


def prune_dramatiq_messages(
    now: datetime | None = None, older_than_s: int | None = None, deadline: float | None = None,
    batch: int | None = None,
) -> int:  # fmt: skip
    """Delete django_dramatiq's rows of finished messages older than ``older_than_s``.

    These rows are the admin's record of what the broker carried (the broker holds the
    messages themselves; a message still queued gets its row written again when it runs).
    Each step reads ``batch`` rows along the ``updated_at`` index from where the last one
    stopped and deletes the finished ones among them."""
    now = now or timezone.now()
    batch = batch or settings.HOUSEKEEPING_BATCH_ROWS
    seconds = settings.DRAMATIQ_MESSAGE_RETENTION_S if older_than_s is None else older_than_s
    old = DramatiqMessage.tasks.filter(updated_at__lt=now - timedelta(seconds=seconds))
    deleted = 0
    while not _expired(deadline):
        window = old if _message_scan["after"] is None else old.filter(updated_at__gt=_message_scan["after"])
        rows = list(window.order_by("updated_at").values_list("pk", "status", "updated_at")[:batch])
        finished = [pk for pk, status, _ in rows if status in FINISHED_MESSAGES]
        if finished:
            deleted += DramatiqMessage.tasks.filter(pk__in=finished, status__in=FINISHED_MESSAGES).delete()[0]
        if len(rows) < batch:
            _message_scan["after"] = None
            break
        _message_scan["after"] = rows[-1][2]
    return deleted


def _artifact_task_ids(cutoff: datetime, limit: int) -> list:
    """Up to ``limit`` tasks finished before ``cutoff`` that still have artifacts, oldest rows first.

    Artifact rows are written while a task runs and deleted when pruned, so the head of the table
    (by id) belongs to the oldest tasks that still have files."""
    rows = TaskArtifact.objects.filter(task__status__in=TERMINAL, task__finished_at__lt=cutoff).order_by("id")
    ids: list = []
    for task_id in rows.values_list("task_id", flat=True)[: limit * 20]:
        if task_id not in ids:
            ids.append(task_id)
            if len(ids) == limit:
                break
    return ids


def _prune_task_artifacts(task_id) -> tuple[int, int]:
    artifacts = list(TaskArtifact.objects.filter(task_id=task_id))
    for artifact in artifacts:
        default_storage.delete(artifact.path)
    TaskArtifact.objects.filter(task_id=task_id).delete()
    shutil.rmtree(settings.WORKDIR / "artifacts" / str(task_id), ignore_errors=True)
    (settings.WORKDIR / "logs" / f"{task_id}.log").unlink(missing_ok=True)
    TaskLogLine.objects.create(
        task_id=task_id, level="WARNING", source="platform",
        message=f"artifacts pruned by retention ({len(artifacts)} files); the result is kept",
    )  # fmt: skip
    return len(artifacts), sum(a.size_bytes for a in artifacts)


def prune_artifacts(
    older_than_days: int, dry_run: bool = False, now: datetime | None = None, deadline: float | None = None,
    max_tasks: int | None = None,
) -> dict:  # fmt: skip
    """Delete the artifact files (and rows) of tasks finished more than ``older_than_days`` ago.

    ``max_tasks`` and ``deadline`` bound one call (housekeeping); without them it runs until no
    old artifact is left (the management command). ``dry_run`` only counts."""
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    summary = {"tasks": 0, "files": 0, "bytes": 0}
    if dry_run:
        old = TaskArtifact.objects.filter(task__status__in=TERMINAL, task__finished_at__lt=cutoff)
        summary["tasks"] = old.values("task_id").distinct().count()
        summary["files"] = old.count()
        summary["bytes"] = sum(old.values_list("size_bytes", flat=True))
        return summary
    while not _expired(deadline) and (max_tasks is None or summary["tasks"] < max_tasks):
        left = TASKS_PER_BATCH if max_tasks is None else min(TASKS_PER_BATCH, max_tasks - summary["tasks"])
        ids = _artifact_task_ids(cutoff, left)
        if not ids:
            break
        for task_id in ids:
            if _expired(deadline):
                break
            files, size = _prune_task_artifacts(task_id)
            summary["tasks"] += 1
            summary["files"] += files
            summary["bytes"] += size
    return summary


def prune_rows(now: datetime | None = None, deadline: float | None = None) -> dict:
    """One bounded retention step for housekeeping: task rows, artifacts (if a policy is set),
    message rows. Returns what was deleted."""
    now = now or timezone.now()
    rows = prune_task_rows(now, deadline=deadline)
    summary = {"rows_pruned": sum(v for k, v in rows.items() if k != "tasks"), "tasks_rows_pruned": rows["tasks"]}
    if settings.TASK_ARTIFACT_RETENTION_DAYS > 0:
        pruned = prune_artifacts(settings.TASK_ARTIFACT_RETENTION_DAYS, now=now, deadline=deadline, max_tasks=50)
        summary["artifact_tasks_pruned"] = pruned["tasks"]
    summary["messages_pruned"] = prune_dramatiq_messages(now, deadline=deadline)
    return summary
