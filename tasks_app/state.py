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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tasks_app import events, final_write
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
    lines: Sequence[TaskLogLine] = (), start: str | None = None, **fields,
) -> Task:  # fmt: skip
    """Move ``task`` to ``target`` or raise ``IllegalTransition`` (``LeaseLost`` for a stale lease).

    ``only_from`` narrows the allowed source states (e.g. the worker claim accepts only QUEUED).
    Extra ``fields`` (node, error, result, …) are written in the same UPDATE; ``lines`` (log lines
    a reporter still held) are inserted with the transition's own line in one statement. The
    passed instance is updated on success.

    ``start`` (a claim only: ``target`` ASSIGNED) says the claimer runs the attempt itself at
    once: the same UPDATE moves on to RUNNING, so a worker's claim and start are one transaction
    and one fenced write (issue 12). The task still passes through ASSIGNED by the table: both
    moves get their log line (``start`` is the second's message) and their event, in order; the
    attempt row is created already started.

    Cost (DESIGN.md rule 11): one locking SELECT of the row (with its structure, model, node and
    callback, so later reads cost nothing), the conditional UPDATE, one INSERT of the log lines
    and one write of the attempt row. Inside a caller's transaction no savepoint is taken: an
    illegal move is detected before anything is written and raised after the block.
    """
    if start is not None and target != S.ASSIGNED:
        raise ValueError("start= goes with a claim (target ASSIGNED)")
    allowed = set(sources_of(target))
    if only_from is not None:
        allowed &= {only_from} if isinstance(only_from, str) else set(only_from)
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        row = task if _holds(task, only_from, lease) else _locked_row(task.pk)
        refused = _refusal(task.pk, row, allowed, lease, target)
        if refused is None and row is not None:
            refused = _write(task, row, target, allowed, lease, now, message, level, lines, fields, start)
    if refused is not None:
        raise refused
    return task


def _write(
    task, row, target, allowed, lease, now, message, level, lines, fields, start=None
) -> IllegalTransition | None:
    """The UPDATE, the log lines, the attempt row and the event of a transition found legal
    (with ``start``: of the claim and the RUNNING move after it, in one UPDATE)."""
    final = S.RUNNING if start is not None else target
    implied = implied_fields(row, target, now)
    if start is not None:
        implied.update(implied_fields(row, S.RUNNING, now))
    updates = {"status": final, "updated_at": now, **implied, **fields}
    match = Task.objects.filter(pk=task.pk, status__in=allowed)
    if lease is not None:
        match = match.filter(lease_token=lease.token)
    if not match.update(**updates):  # moved on meanwhile (an unlocked row: the lease holder's, or SQLite)
        current = Task.objects.filter(pk=task.pk).values_list("status", "lease_token").first()
        return _refusal(task.pk, Task(status=current[0], lease_token=current[1]) if current else None, set(),
                        lease, target)  # fmt: skip
    previous = row.status
    line = TaskLogLine(task_id=task.pk, level=level, source="platform", message=line_text(previous, target, message))
    started = None
    if start is not None:
        started = TaskLogLine(task_id=task.pk, level=level, source="platform",
                              message=line_text(target, final, start))  # fmt: skip
    TaskLogLine.objects.bulk_create([*lines, line, *([started] if started else [])])
    _apply(task, row, updates)
    why = message or fields.get("error", "")
    _record_attempt(task, previous, row.attempts, target, now, why, started=started is not None)
    emit_after_commit(task, previous, line, started)
    return None


def line_text(previous: str | None, target: str, message: str | None) -> str:
    """A transition's log line: ``status QUEUED → ASSIGNED: claimed by gpu-0``."""
    return f"status {previous} → {target}" + (f": {message}" if message else "")


def emit_after_commit(task: Task, previous: str | None, line: TaskLogLine, started: TaskLogLine | None) -> None:
    """Emit the transition's event once the transaction commits (at once in autocommit).

    ``started``: a claim that moved on to RUNNING in the same write — the claim's event as of
    ASSIGNED goes to the subscribers only; the page gets the RUNNING one with both lines (one
    render and push for the two moves)."""
    snapshot = copy.copy(task)  # later transitions in this transaction must not change what we emit
    if started is None:
        transaction.on_commit(lambda: events.status_changed(snapshot, previous or "", [line]))
        return
    claimed = copy.copy(task)
    claimed.status, claimed.started_at = S.ASSIGNED, None
    transaction.on_commit(lambda: events.status_changed(claimed, previous or "", [line], push_page=False))
    transaction.on_commit(lambda: events.status_changed(snapshot, S.ASSIGNED, [line, started]))


def finish(task: Task, target: str, *, lease: Lease, lines: Sequence[TaskLogLine] = (), artifacts=(), points=(),
           level: str = "INFO", **fields) -> bool:  # fmt: skip
    """A worker's final move of its own attempt (RUNNING → ``target``), with the attempt's pending
    log lines, its metric points (unsaved ``TaskMetricPoint``) and artifact rows (unsaved
    ``TaskArtifact``), as one statement (``tasks_app.final_write``, PostgreSQL; issue 12).

    The same rows as ``transition`` plus the caller's inserts in one transaction, the same
    fence, the same event after commit — whose lines are all those inserted (the executor's, then
    the transition's), so an open page gets them in order in one push. Returns False, having
    written nothing, where that does not apply (SQLite; the row is not this attempt's RUNNING one):
    the caller then takes the reference path (``transition`` in its transaction), which also
    says why a stale attempt may not write.
    """
    if not final_write.supported() or target not in TERMINAL:
        return False
    now = timezone.now()
    updates = {"status": target, "updated_at": now, **implied_fields(task, target, now), **fields}
    line = TaskLogLine(task_id=task.pk, level=level, source="platform", message=line_text(S.RUNNING, target, None))
    inserted = [*lines, line]
    reason = str(fields.get("error", ""))[:2000]
    if not final_write.write(task.pk, lease.token, lease.attempt, S.RUNNING, updates, inserted, reason,
                             list(artifacts), list(points), now):  # fmt: skip
        return False
    _apply(task, task, updates)
    keep(task, "artifacts", list(artifacts))
    _ended(task, lease.attempt, now, target, reason)
    snapshot = copy.copy(task)
    transaction.on_commit(lambda: events.status_changed(snapshot, S.RUNNING, inserted))
    return True


def _holds(task: Task, only_from, lease: Lease | None) -> bool:
    """A worker's own next step (RUNNING, then the final state): its instance is the row as its
    attempt left it, and the UPDATE's conditions (state, lease token) are the check — no SELECT."""
    return (
        lease is not None and isinstance(only_from, str) and not task._state.adding
        and task.status == only_from and task.lease_token == lease.token
    )  # fmt: skip


def _locked_row(task_id) -> Task | None:
    """The row, locked until commit (PostgreSQL), with what a worker and the events read next."""
    return (
        Task.objects.select_for_update(of=("self",))
        .select_related("structure", "model", "node", "callback")
        .filter(pk=task_id)
        .first()
    )


def _refusal(task_id, row: Task | None, allowed: set, lease: Lease | None, target: str) -> IllegalTransition | None:
    """Why ``row`` cannot make the move (``LeaseLost`` first: a stale attempt learns that), or None."""
    status, token = (row.status, row.lease_token) if row is not None else (None, None)
    if row is None or status not in allowed or (lease is not None and token != lease.token):
        if lease is not None and token != lease.token:
            return LeaseLost(task_id, status, target)
        return IllegalTransition(task_id, status, target)
    return None


def _apply(task: Task, row: Task, updates: dict) -> None:
    """Make ``task`` what the database now holds: the locked row plus the UPDATE's values."""
    for name, value in updates.items():
        setattr(row, name, value)  # ``node=`` goes through its descriptor: id and cache together
    task.__dict__.update({k: v for k, v in row.__dict__.items() if k != "_state"})
    task._state.adding, task._state.db = False, row._state.db
    task._state.fields_cache = dict(row._state.fields_cache)


def implied_fields(row: Task, target: str, now) -> dict:
    """What entering ``target`` means for the other columns (callers' ``fields`` win).

    Values are computed from the locked row (not SQL expressions), so the instance can be updated
    without reading the row back."""
    implied: dict = {}
    if target in _STAMPS:
        implied[_STAMPS[target]] = now
    if target == S.ASSIGNED:  # a claim: a new attempt with a fresh fencing token
        implied.update(
            lease_token=uuid.uuid4(), attempts=row.attempts + 1,
            lease_expires_at=now + timedelta(seconds=settings.TASK_LEASE_TTL_S),
        )  # fmt: skip
    if target == S.QUEUED:
        # Entering the queue keeps the original queue time (a re-queued task keeps its place)
        # and forgets everything the lost attempt had: node, lease, progress.
        implied.update(
            queued_at=row.queued_at or now, node=None, started_at=None, assigned_at=None,
            lease_token=None, lease_expires_at=None, progress_step=0, progress_total=None, progress={},
        )  # fmt: skip
    if target in TERMINAL:
        implied.update(finished_at=now, lease_expires_at=None)
    return implied


def create_queued(tasks: list[Task], now=None) -> list[Task]:
    """Insert new tasks straight into QUEUED (the PENDING → QUEUED move of a submit), in bulk.

    A task being submitted is PENDING only inside its creating transaction, where nobody can see
    it; so the rows are born QUEUED with their queue time and the time of the wake-up that is
    sent on commit, and each gets its ``status PENDING → QUEUED`` log line — two INSERTs for any
    number of tasks. The events (list rows, ``task_status_changed``) go out after commit.
    """
    now = now or timezone.now()
    for task in tasks:
        task.status, task.queued_at, task.wakeup_sent_at, task.updated_at = S.QUEUED, now, now, now
    Task.objects.bulk_create(tasks)
    text = f"status {S.PENDING} → {S.QUEUED}"
    TaskLogLine.objects.bulk_create(TaskLogLine(task_id=t.pk, level="INFO", source="platform", message=text)
                                    for t in tasks)  # fmt: skip
    for task in tasks:
        if not Task.callback.is_cached(task):  # nothing can have attached one yet: no SELECT later
            Task.callback.related.set_cached_value(task, None)
    # The instances themselves, not copies (copying 500 took 1.3 s): a callback attached later in
    # the transaction is then seen, and a task that moved on before commit emitted its own event.
    transaction.on_commit(lambda: events.tasks_created([t for t in tasks if t.status == S.QUEUED]))
    return tasks


def _record_attempt(task: Task, previous: str | None, previous_attempt: int | None, target: str, now, why: str,
                    started: bool = False):  # fmt: skip
    """Keep the attempt history (TaskAttempt rows) in step with the transition just made
    (``started``: a claim whose attempt starts at once; its row is born started).

    The instance also keeps its history (as if prefetched) when it is known without a query — a
    first attempt's, from its claim on — so the pushed fragment renders it without a SELECT."""
    history = known(task, "attempt_history")
    if target == S.ASSIGNED:
        node = task.node  # cached by the transition's SELECT or UPDATE: no query
        attempt = TaskAttempt.objects.create(
            task_id=task.pk, number=task.attempts, node=node, node_name=node.name if node else "", claimed_at=now,
            started_at=now if started else None,
        )  # fmt: skip
        if task.attempts == 1:
            keep(task, "attempt_history", [attempt])
        else:
            forget(task, "attempt_history")
    elif target == S.RUNNING:
        TaskAttempt.objects.filter(task_id=task.pk, number=task.attempts).update(started_at=now)
        for attempt in history or []:
            if attempt.number == task.attempts:
                attempt.started_at = now
    elif previous in HELD and previous_attempt is not None:
        if target == S.QUEUED:  # the lost attempt's files and series are void; the next writes its own
            TaskArtifact.objects.filter(task_id=task.pk).delete()
            TaskMetricPoint.objects.filter(task_id=task.pk).delete()
            forget(task, "artifacts")
        reason = str(why)[:2000]
        TaskAttempt.objects.filter(task_id=task.pk, number=previous_attempt, ended_at__isnull=True).update(
            ended_at=now, outcome=target, reason=reason
        )
        _ended(task, previous_attempt, now, target, reason)


def _ended(task: Task, number: int, now, outcome: str, reason: str) -> None:
    """The instance's attempt history (when held) as the attempt row's end was just written."""
    for attempt in known(task, "attempt_history") or []:
        if attempt.number == number and attempt.ended_at is None:
            attempt.ended_at, attempt.outcome, attempt.reason = now, outcome, reason


def keep(task: Task, relation: str, objects: list) -> None:
    """Hold ``objects`` as ``task.<relation>.all()`` (Django's prefetch cache): no query to read them."""
    queryset = getattr(task, relation).all()
    queryset._result_cache, queryset._prefetch_done = list(objects), True
    task.__dict__.setdefault("_prefetched_objects_cache", {})[relation] = queryset


def known(task: Task, relation: str) -> list | None:
    cached = task.__dict__.get("_prefetched_objects_cache", {}).get(relation)
    return cached._result_cache if cached is not None else None


def forget(task: Task, relation: str) -> None:
    task.__dict__.get("_prefetched_objects_cache", {}).pop(relation, None)
