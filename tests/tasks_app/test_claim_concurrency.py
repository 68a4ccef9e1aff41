"""Many claimers on one queue (issue 12): each task claimed exactly once, priority kept.

PostgreSQL only: the claim locks its candidate with ``FOR UPDATE SKIP LOCKED`` there, and real
concurrent transactions are what the test is about (SQLite serialises writers)."""

import threading

import pytest
from django.conf import settings
from django.db import connection

from tasks_app.choices import Priority, TaskStatus
from tasks_app.models import Task, TaskAttempt
from tasks_app.scheduler import claim_next_task
from tasks_app.services import enqueue_task

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="row locks need PostgreSQL"
    ),
]
CLAIMERS = 8


def claim_concurrently(per_claimer: int | None, start_on: str | None = None) -> list:
    """Run ``CLAIMERS`` threads, each claiming ``per_claimer`` tasks (None: until the queue is empty);
    ``start_on``: the worker's claim, which moves each task on to RUNNING in the same statement."""
    claimed: list = []
    errors: list = []
    lock = threading.Lock()
    start = threading.Barrier(CLAIMERS)

    def claimer():
        try:
            start.wait()
            n = 0
            while per_claimer is None or n < per_claimer:
                task = claim_next_task(None, start=start_on)
                if task is None:
                    if per_claimer is None:
                        break
                    continue  # the rest is locked by others right now; they will claim it
                with lock:
                    claimed.append(task)
                n += 1
        except Exception as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer) for _ in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    return claimed


def test_eight_claimers_take_each_task_once_and_the_urgent_ones_first(owner, outsider):
    urgent = {
        enqueue_task(owner=who, kind="single_point", params={}, priority=p).pk
        for who in (owner, outsider)
        for p in [Priority.CRITICAL] * 5 + [Priority.HIGH] * 15
    }
    rest = {
        enqueue_task(owner=who, kind="single_point", params={}, priority=Priority.LOW).pk
        for who in (owner, outsider)
        for _ in range(20)
    }

    first = claim_concurrently(per_claimer=len(urgent) // CLAIMERS)
    assert sorted(t.pk for t in first) == sorted(urgent), "a LOW task was claimed while urgent ones waited"

    second = claim_concurrently(per_claimer=None)
    assert sorted(t.pk for t in second) == sorted(rest)

    every = first + second
    assert len({t.pk for t in every}) == len(every) == len(urgent) + len(rest)
    assert all(t.status == TaskStatus.ASSIGNED and t.attempts == 1 for t in every)
    assert TaskAttempt.objects.count() == len(every)
    assert not Task.objects.filter(status=TaskStatus.QUEUED).exists()


def test_eight_workers_claiming_and_starting_leave_one_attempt_and_two_lines_each(owner, outsider):
    """The worker's claim (claim + start in one statement), raced by eight connections: each task
    RUNNING once, with its one attempt row (born started, its fencing token its own) and its two
    transition lines."""
    from tasks_app.models import TaskLogLine

    ids = [
        enqueue_task(owner=who, kind="single_point", params={}, priority=p).pk
        for who in (owner, outsider)
        for p in [Priority.HIGH, Priority.NORMAL] * 12
    ]
    claimed = claim_concurrently(per_claimer=None, start_on="on cpu")
    assert sorted(t.pk for t in claimed) == sorted(ids)
    assert len({t.lease_token for t in claimed}) == len(ids)
    rows = Task.objects.filter(pk__in=ids)
    assert all(t.status == TaskStatus.RUNNING and t.attempts == 1 and t.started_at for t in rows)
    assert {(t.pk, t.lease_token) for t in rows} == {(t.pk, t.lease_token) for t in claimed}
    attempts = TaskAttempt.objects.filter(task_id__in=ids)
    assert attempts.count() == len(ids) and not attempts.filter(started_at__isnull=True).exists()
    lines = TaskLogLine.objects.filter(task_id__in=ids, message__startswith="status ")
    assert lines.count() == 3 * len(ids)  # PENDING → QUEUED, QUEUED → ASSIGNED, ASSIGNED → RUNNING


def test_a_claim_locks_only_the_row_it_takes(owner):
    """The statement tries the window's rows one at a time in rank order and stops at the first
    it can lock: while a claim's transaction is open, every other QUEUED row stays free for the
    other claimers (a plan that locked the window before choosing would starve them), and the
    next claimer skips the held row and takes the next one."""
    from django.db import transaction

    ids = [enqueue_task(owner=owner, kind="single_point", params={}, priority=Priority.HIGH).pk for _ in range(6)]
    seen: dict = {}

    def other_connection():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT id FROM tasks_app_task WHERE status = 'QUEUED' FOR UPDATE SKIP LOCKED")
                seen["free"] = {row[0] for row in cursor.fetchall()}
            seen["next"] = claim_next_task(None)
        finally:
            connection.close()

    with transaction.atomic():
        first = claim_next_task(None)
        assert first is not None and first.pk == ids[0]
        thread = threading.Thread(target=other_connection)
        thread.start()
        thread.join(60)
    assert seen["free"] == set(ids[1:])  # only the claimed row is locked
    assert seen["next"] is not None and seen["next"].pk == ids[1]
