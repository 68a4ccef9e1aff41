"""Per-attempt leases: renewal by the running worker, expiry and release by housekeeping.

A claim gives the attempt a fencing token and an expiry (``tasks_app.state``). While the attempt
runs, its ``LeaseKeeper`` thread — independent of the thread doing the computing, so a long
model load or a C-level force call cannot starve it — pushes the expiry forward and notices at
once when the row says the task was cancelled or handed to another attempt. An attempt whose
lease expired (its process was killed, stopped, lost its database, or is orphaned) is failed
over by ``expire_leases``, however healthy the node name's heartbeat looks.
"""

import logging
import threading
import time
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.utils import timezone

from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tasks_app.services import send_wakeup
from tasks_app.state import HELD, IllegalTransition, Lease, transition

logger = logging.getLogger(__name__)
S = TaskStatus


def renew(lease: Lease, now=None) -> str:
    """Extend ``lease``; ``"held"``, or why not: ``"cancelled"``, ``"lost"`` (another attempt/queue),
    ``"unseen"`` (this connection cannot see the row: a claim not yet committed, as in an inline run
    inside a caller's transaction; the keeper keeps polling rather than stop a task it cannot judge)."""
    now = now or timezone.now()
    expires = now + timedelta(seconds=settings.TASK_LEASE_TTL_S)
    if Task.objects.filter(pk=lease.task_id, lease_token=lease.token, status__in=HELD).update(lease_expires_at=expires):
        return "held"
    status = Task.objects.filter(pk=lease.task_id).values_list("status", flat=True).first()
    if status is None:
        return "unseen"
    return "cancelled" if status == S.CANCELLED else "lost"


def fail_over(task: Task, why: str) -> str:
    """Put a held task back in the queue, or fail it after TASK_MAX_ATTEMPTS. Returns the new state.

    The caller sends the wake-up (after commit) for a re-queued task. Raises IllegalTransition
    when the task moved on meanwhile (finished, cancelled, claimed again).
    """
    if task.attempts >= settings.TASK_MAX_ATTEMPTS:
        error = f"{why}; gave up after {task.attempts} attempts (TASK_MAX_ATTEMPTS)"
        transition(task, S.FAILED, only_from=HELD, lease=Lease.of(task), error=error, level="ERROR")
        return S.FAILED
    transition(task, S.QUEUED, only_from=HELD, lease=Lease.of(task), message=f"{why}; re-queued", level="WARNING")
    return S.QUEUED


def fail_over_all(tasks, why: str, deadline: float | None = None) -> int:
    """``fail_over`` each task (skipping those that moved on); wake-ups are sent after commit.

    With ``deadline`` (a ``time.monotonic()`` value) it stops there; what is left stays held
    with its expired lease and is failed over by the next pass."""

    moved = 0
    for task in tasks:
        if deadline is not None and time.monotonic() >= deadline:
            break
        try:
            with transaction.atomic():
                if fail_over(task, why) == S.QUEUED:
                    transaction.on_commit(partial(send_wakeup, task.pk))
            moved += 1
        except IllegalTransition:
            continue
    return moved


def expire_leases(now=None, limit: int = 100, deadline: float | None = None) -> int:
    """Fail over up to ``limit`` attempts whose lease ran out (a bounded housekeeping step).

    Only held tasks have a ``lease_expires_at`` (terminal and re-queued ones clear it), so this
    reads the head of that column's index, however many tasks there are."""
    now = now or timezone.now()
    expired = Task.objects.filter(status__in=HELD, lease_expires_at__lt=now).order_by("lease_expires_at")[:limit]
    tasks = list(expired.select_related("node"))
    for task in tasks:
        where = f" on {task.node.name}" if task.node_id else ""
        logger.warning("task %s: lease of attempt %s%s expired", task.pk, task.attempts, where)
    return fail_over_all(tasks, "the worker stopped renewing its lease", deadline)


def release_node_tasks(node, why: str) -> int:
    """Fail over whatever ``node`` holds: its worker process (re)started and holds nothing."""
    return fail_over_all(list(Task.objects.filter(node=node, status__in=HELD)), why)


class LeaseKeeper(threading.Thread):
    """Renews one attempt's lease every TASK_LEASE_POLL_S and raises a flag when it is gone.

    ``lost`` is None while the attempt holds the task, else ``"cancelled"`` or ``"lost"``; the
    computing thread reads it at every force call and progress report (``TaskReporter.check``),
    so it stops within one step. A database error is retried with a fresh connection on the next
    poll: the lease's TTL, not one failed query, decides when the attempt is given up.
    """

    def __init__(self, lease: Lease, poll_s: float | None = None):
        super().__init__(name=f"mofsim-lease-{str(lease.task_id)[:8]}", daemon=True)
        self.lease = lease
        self.poll_s = settings.TASK_LEASE_POLL_S if poll_s is None else poll_s
        self.lost: str | None = None
        self._stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self._stopping.wait(self.poll_s):
                try:
                    state = renew(self.lease)
                except DatabaseError:
                    logger.warning("lease renewal for task %s failed; retrying", self.lease.task_id, exc_info=True)
                    drop_connection()
                    continue
                if state not in ("held", "unseen"):
                    self.lost = state
                    return
        finally:
            connection.close()

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=max(5.0, 2 * self.poll_s))


def drop_connection() -> None:
    """Forget a connection that failed, so the next query opens a fresh one."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a dead connection may itself fail
        pass
    close_old_connections()
