"""The one writer of ``Task.status`` (DESIGN.md rule 2).

``transition()`` validates the move against ``TRANSITIONS`` with a conditional UPDATE (so two
workers racing for the same row cannot both win), stamps the matching time, keeps the attempt
history, writes a log line, and emits the event after commit (websocket, webhook/alerts). Row
first, message second.

A worker passes its ``Lease`` (DESIGN.md rule 1): the UPDATE then also requires the task's
``lease_token`` to be the one its claim received, so a worker that was declared dead, paused or
orphaned while another attempt took over can no longer write anything — it gets ``LeaseLost``.
"""

import copy
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from tasks_app import events
from tasks_app.choices import TERMINAL, TaskStatus, sources_of
from tasks_app.models import Task, TaskArtifact, TaskAttempt, TaskLogLine, TaskMetricPoint

S = TaskStatus
_STAMPS: dict[str, str] = {
    S.ASSIGNED: "assigned_at",
    S.RUNNING: "started_at",
}
HELD = (S.ASSIGNED, S.RUNNING)  # states in which a worker holds the task under a lease


@dataclass(frozen=True)
class Lease:
    """What a claim hands a worker: the task, the attempt number and the fencing token."""

    task_id: uuid.UUID
    attempt: int
    token: uuid.UUID | None  # None only for a row claimed before leases existed (failed over by expiry)

    @classmethod
    def of(cls, task: Task) -> "Lease":
        return cls(task.pk, task.attempts, task.lease_token)


class IllegalTransition(Exception):
    def __init__(self, task_id, current: str | None, target: str):
        self.task_id, self.current, self.target = task_id, current, target
        super().__init__(f"task {task_id}: {current} → {target} is not allowed")


class LeaseLost(IllegalTransition):
    """The worker's attempt no longer owns the task (failed over, or another attempt runs it)."""

    def __init__(self, task_id, current: str | None, target: str):
        super().__init__(task_id, current, target)
        self.args = (f"task {task_id}: this attempt no longer holds the task (now {current}); {target} not recorded",)


def transition(
    task: Task, target: str, *, only_from=None, lease: Lease | None = None, message: str = "", level: str = "INFO",
    **fields,
) -> Task:  # fmt: skip
    """Move ``task`` to ``target`` or raise ``IllegalTransition`` (``LeaseLost`` for a stale lease).

    ``only_from`` narrows the allowed source states (e.g. the worker claim accepts only QUEUED).
    Extra ``fields`` (node, error, result, …) are written in the same UPDATE. The passed
    instance is refreshed from the database on success.
    """
    allowed = set(sources_of(target))
    if only_from is not None:
        allowed &= {only_from} if isinstance(only_from, str) else set(only_from)
    now = timezone.now()
    updates = {"status": target, "updated_at": now, **_implied_fields(target, now), **fields}
    with transaction.atomic():
        before = Task.objects.filter(pk=task.pk).values("status", "attempts", "node_id").first() or {}
        previous = before.get("status")
        match = Task.objects.filter(pk=task.pk, status__in=allowed)
        if lease is not None:
            match = match.filter(lease_token=lease.token)
        if not match.update(**updates):
            current = Task.objects.filter(pk=task.pk).values_list("status", "lease_token").first()
            status, token = current if current else (None, None)
            if lease is not None and token != lease.token:
                raise LeaseLost(task.pk, status, target)
            raise IllegalTransition(task.pk, status, target)
        text = f"status {previous} → {target}" + (f": {message}" if message else "")
        line = TaskLogLine.objects.create(task_id=task.pk, level=level, source="platform", message=text)
        task.refresh_from_db()
        _record_attempt(task, previous, before.get("attempts"), target, now, message or fields.get("error", ""))
        snapshot = copy.copy(task)  # later transitions in this transaction must not change what we emit
        transaction.on_commit(lambda: events.status_changed(snapshot, previous or "", line))
    return task


def _implied_fields(target: str, now) -> dict:
    """What entering ``target`` means for the other columns (callers' ``fields`` win)."""
    implied = {}
    if target in _STAMPS:
        implied[_STAMPS[target]] = now
    if target == S.ASSIGNED:  # a claim: a new attempt with a fresh fencing token
        implied.update(
            lease_token=uuid.uuid4(), attempts=F("attempts") + 1,
            lease_expires_at=now + timedelta(seconds=settings.TASK_LEASE_TTL_S),
        )  # fmt: skip
    if target == S.QUEUED:
        # Entering the queue keeps the original queue time (a re-queued task keeps its place)
        # and forgets everything the lost attempt had: node, lease, progress.
        implied.update(
            queued_at=Coalesce(F("queued_at"), Value(now)), node=None, started_at=None, assigned_at=None,
            lease_token=None, lease_expires_at=None, progress_step=0, progress_total=None, progress={},
        )  # fmt: skip
    if target in TERMINAL:
        implied.update(finished_at=now, lease_expires_at=None)
    return implied


def _record_attempt(task: Task, previous: str | None, previous_attempt: int | None, target: str, now, why: str):
    """Keep the attempt history (TaskAttempt rows) in step with the transition just made."""
    if target == S.ASSIGNED:
        node = task.node
        TaskAttempt.objects.create(
            task_id=task.pk, number=task.attempts, node=node, node_name=node.name if node else "", claimed_at=now
        )
    elif target == S.RUNNING:
        TaskAttempt.objects.filter(task_id=task.pk, number=task.attempts).update(started_at=now)
    elif previous in HELD and previous_attempt is not None:
        if target == S.QUEUED:  # the lost attempt's files and series are void; the next writes its own
            TaskArtifact.objects.filter(task_id=task.pk).delete()
            TaskMetricPoint.objects.filter(task_id=task.pk).delete()
        TaskAttempt.objects.filter(task_id=task.pk, number=previous_attempt, ended_at__isnull=True).update(
            ended_at=now, outcome=target, reason=str(why)[:2000]
        )
