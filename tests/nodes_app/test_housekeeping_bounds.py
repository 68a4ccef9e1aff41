"""Housekeeping is O(1) per pass: with 20 000 QUEUED tasks a pass reads the same number of rows
and issues the same SQL as with 200, re-sends only what the broker is missing, and stops at its
time budget (issue 12)."""

import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from nodes_app.housekeeping import housekeeping_pass
from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tasks_app.reconciler import broker_backlog, requeue_lost_messages

S = TaskStatus
pytestmark = pytest.mark.django_db(transaction=True)
LONG_AGO = timedelta(hours=2)


def bulk_queue(owner, n: int) -> list:
    """``n`` QUEUED tasks whose wake-ups were sent long ago (a backlog), inserted in bulk."""
    then = timezone.now() - LONG_AGO
    tasks = [
        Task(owner=owner, kind="single_point", status=S.QUEUED, queued_at=then, wakeup_sent_at=then) for _ in range(n)
    ]
    Task.objects.bulk_create(tasks, batch_size=2000)
    return [t.pk for t in tasks]


def hold_wakeups(broker, task_ids) -> None:
    """Put one real wake-up per task in the broker with the broker's own enqueue primitive.

    ``broker.enqueue`` would also run the middleware (django_dramatiq writes a row per message),
    which takes minutes for 20 000 messages; the broker's state is the same either way."""
    from tasks_app.tasks import run_next_task

    for pk in task_ids:
        message = run_next_task.message(str(pk)).copy(options={"redis_message_id": str(pk)})
        broker.do_enqueue(message.queue_name, str(pk), message.encode())


def task_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if '"tasks_app_task"' in q["sql"]]


@pytest.mark.slow
def test_with_20k_queued_a_pass_sends_only_the_deficit_and_stops_at_its_limits(owner, broker, settings):
    ids = bulk_queue(owner, 200)
    hold_wakeups(broker, ids[:190])  # the broker lost 10 wake-ups
    with CaptureQueriesContext(connection) as small:
        assert housekeeping_pass()["wakeups_resent"] == 10

    ids = bulk_queue(owner, 19_800)
    hold_wakeups(broker, ids[10:])  # now 20 000 queued, 19 990 wake-ups held: again 10 missing
    assert broker_backlog() == 19_990
    with CaptureQueriesContext(connection) as big:
        summary = housekeeping_pass()
    assert summary["wakeups_resent"] == 10
    assert broker_backlog() == 20_000 and housekeeping_pass()["wakeups_resent"] == 0
    assert Task.objects.filter(wakeup_sent_at__gt=timezone.now() - LONG_AGO / 2).count() == 20
    # The same statements on the task table at 200 and at 20 000 queued: no scan grows with the queue.
    assert len(task_queries(big)) == len(task_queries(small))

    broker.flush_all()  # a Redis restart without persistence lost every wake-up
    Task.objects.update(wakeup_sent_at=timezone.now() - LONG_AGO)
    settings.HOUSEKEEPING_RESEND_MAX = 300
    assert requeue_lost_messages() == 300  # the row limit binds

    settings.HOUSEKEEPING_RESEND_MAX = 20_000
    budget = 1.0
    started = time.monotonic()
    summary = housekeeping_pass(budget_s=budget)
    elapsed = time.monotonic() - started
    assert summary["wakeups_resent"] < 19_700  # the time budget binds (how many fit depends on the machine)
    assert elapsed < budget + 10, elapsed  # one send and the bounded reads past the budget, on a loaded box
    assert broker_backlog() == 300 + summary["wakeups_resent"]
    assert requeue_lost_messages(deadline=time.monotonic()) == 0  # a spent budget sends nothing


def test_leases_expire_in_bounded_batches(owner, broker):
    """A thousand attempts whose leases ran out are failed over 100 a pass, oldest first."""
    from tasks_app.leases import expire_leases

    now = timezone.now()
    Task.objects.bulk_create(
        [Task(owner=owner, kind="single_point", status=S.RUNNING, attempts=1, lease_token=uuid.uuid4(),
              lease_expires_at=now - timedelta(seconds=600 - i)) for i in range(1000)],
        batch_size=500,
    )  # fmt: skip
    oldest = Task.objects.order_by("lease_expires_at").first()
    assert expire_leases(now, limit=100) == 100
    assert Task.objects.filter(status=S.QUEUED).count() == 100
    oldest.refresh_from_db()
    assert oldest.status == S.QUEUED
    assert expire_leases(now, limit=100, deadline=time.monotonic()) == 0  # budget already spent


def test_on_postgresql_no_housekeeping_read_scans_the_task_table(owner, broker):
    """Every SELECT a pass makes on the task table is an index read (the plan, not a timing)."""
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    bulk_queue(owner, 5000)  # a backlog among a longer history, as in production
    finished = timezone.now() - timedelta(days=400)
    Task.objects.bulk_create(
        [Task(owner=owner, kind="single_point", status=S.COMPLETED, finished_at=finished) for _ in range(15_000)],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tasks_app_task")
    with CaptureQueriesContext(connection) as captured:
        housekeeping_pass()
    reads = [sql for sql in task_queries(captured) if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) >= 4  # lease expiry, the QUEUED count, the two stale-task reads, retention
    for sql in reads:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Seq Scan on tasks_app_task" not in plan, f"{sql}\n{plan}"
