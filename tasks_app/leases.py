"""Per-attempt leases: renewal by the running worker, expiry and release by housekeeping.

A claim gives the attempt a fencing token and an expiry (``tasks_app.state``). While the attempt
runs, the process's ``LeaseKeeper`` thread (one per worker process, renewing every lease the
process holds; independent of the thread doing the computing, so a long model load or a C-level
force call cannot starve it) pushes the expiry forward and notices at once when the row says the
task was cancelled or handed to another attempt. An attempt whose lease expired (its process was
killed, stopped, lost its database, or is orphaned) is failed over by ``expire_leases``, however
healthy the node name's heartbeat looks.
"""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import close_old_connections, connection, transaction
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


class Holding:
    """One attempt's entry in the process's lease keeper.

    ``lost`` is None while the attempt holds the task, else ``"cancelled"`` or ``"lost"``; the
    computing thread reads it at every force call and progress report (``TaskReporter.check``),
    so it stops within one step."""

    def __init__(self, lease: Lease):
        self.lease = lease
        self.lost: str | None = None


class LeaseKeeper(threading.Thread):
    """The worker process's one lease keeper: renews every lease the process holds.

    One long-lived thread per process, not one per attempt: starting a thread and opening a
    database connection for every attempt cost a near-no-op task a good part of its time
    (issue 12). Each tick (every TASK_LEASE_POLL_S, read at every tick so a changed setting
    applies) renews each held lease and raises its ``Holding.lost`` flag when the row says it is
    gone. A database error is retried with a fresh connection on the next tick: the lease's TTL,
    not one failed query, decides when an attempt is given up. With nothing held the thread
    closes its connection, so an idle worker keeps none open.
    """

    def __init__(self):
        super().__init__(name="mofsim-lease-keeper", daemon=True)
        self._lock = threading.Lock()
        self._held: dict[int, Holding] = {}

    def hold(self, lease: Lease) -> Holding:
        holding = Holding(lease)
        with self._lock:
            self._held[id(holding)] = holding
        return holding

    def release(self, holding: Holding) -> None:
        """Stop renewing ``holding``'s lease (its attempt ended, or is ending)."""
        with self._lock:
            self._held.pop(id(holding), None)

    def run(self) -> None:
        while True:  # a daemon: it ends with its process
            time.sleep(settings.TASK_LEASE_POLL_S)
            self.tick()

    def tick(self) -> None:
        with self._lock:
            held = list(self._held.values())
        if not held:
            connection.close()  # idle: keep no connection open (and none in a test database's way)
            return
        for holding in held:
            try:
                state = renew(holding.lease)
            except Exception:  # noqa: BLE001 - a database error (or a dropped connection) must not end the keeper
                logger.warning("lease renewal for task %s failed; retrying", holding.lease.task_id, exc_info=True)
                drop_connection()
                return
            if state not in ("held", "unseen"):
                holding.lost = state
                self.release(holding)


_keeper: dict[str, LeaseKeeper] = {}
_keeper_lock = threading.Lock()


def keeper() -> LeaseKeeper:
    """This process's lease keeper, started on first use (and again in a forked child)."""
    with _keeper_lock:
        current = _keeper.get("thread")
        if current is None or not current.is_alive():
            current = _keeper["thread"] = LeaseKeeper()
            current.start()
        return current


@contextmanager
def held(lease: Lease) -> Iterator[Holding]:
    """Have the process's keeper renew ``lease`` for the duration of the block."""
    own = keeper()
    holding = own.hold(lease)
    try:
        yield holding
    finally:
        own.release(holding)


def drop_connection() -> None:
    """Forget a connection that failed, so the next query opens a fresh one."""
    try:
        connection.close()
    except Exception:  # noqa: BLE001 - closing a dead connection may itself fail
        pass
    close_old_connections()
