"""The one writer of ``Task.status`` (DESIGN.md rule 2).

``transition()`` validates the move against ``TRANSITIONS`` with a conditional UPDATE (so two
workers racing for the same row cannot both win), stamps the matching time, writes a log line,
and emits the event after commit (websocket, webhook/alerts). Row first, message second.
"""

import copy

from django.db import transaction
from django.utils import timezone

from tasks_app.choices import TERMINAL, TaskStatus, sources_of
from tasks_app.models import Task, TaskLogLine

S = TaskStatus
_STAMPS = {
    S.QUEUED: "queued_at",
    S.ASSIGNED: "assigned_at",
    S.RUNNING: "started_at",
}


class IllegalTransition(Exception):
    def __init__(self, task_id, current: str | None, target: str):
        self.task_id, self.current, self.target = task_id, current, target
        super().__init__(f"task {task_id}: {current} → {target} is not allowed")


def transition(task: Task, target: str, *, only_from=None, message: str = "", level: str = "INFO", **fields) -> Task:
    """Move ``task`` to ``target`` or raise ``IllegalTransition``.

    ``only_from`` narrows the allowed source states (e.g. the worker claim accepts only QUEUED).
    Extra ``fields`` (node, error, result, …) are written in the same UPDATE. The passed
    instance is refreshed from the database on success.
    """
    allowed = set(sources_of(target))
    if only_from is not None:
        allowed &= {only_from} if isinstance(only_from, str) else set(only_from)
    now = timezone.now()
    updates = {"status": target, "updated_at": now, **fields}
    if target in _STAMPS:
        updates[_STAMPS[target]] = now
    if target in TERMINAL:
        updates["finished_at"] = now
    if target == S.QUEUED:
        # Fail-over back to the queue forgets the node that lost the task.
        updates.setdefault("node", None)
        updates.setdefault("started_at", None)
        updates.setdefault("assigned_at", None)
    with transaction.atomic():
        previous = Task.objects.filter(pk=task.pk).values_list("status", flat=True).first()
        changed = Task.objects.filter(pk=task.pk, status__in=allowed).update(**updates)
        if not changed:
            current = Task.objects.filter(pk=task.pk).values_list("status", flat=True).first()
            raise IllegalTransition(task.pk, current, target)
        text = f"status {previous} → {target}" + (f": {message}" if message else "")
        TaskLogLine.objects.create(task_id=task.pk, level=level, source="platform", message=text)
        task.refresh_from_db()
        snapshot = copy.copy(task)  # later transitions in this transaction must not change what we emit
        transaction.on_commit(lambda: _emit(snapshot, previous))
    return task


def _emit(task: Task, previous: str) -> None:
    from tasks_app import events

    events.status_changed(task, previous)
