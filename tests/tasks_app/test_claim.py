"""The claim query: atomic, priority first, then fair share, then model affinity, then FIFO."""

import pytest

from tasks_app.choices import Priority, TaskStatus
from tasks_app.scheduler import claim_next_task, rank_candidates
from tasks_app.services import enqueue_task
from tasks_app.state import transition

pytestmark = pytest.mark.django_db
S = TaskStatus


def queue(owner, priority=Priority.NORMAL, model=None):
    return enqueue_task(owner=owner, kind="single_point", params={}, model=model, priority=priority)


def test_it_claims_a_task_exactly_once(owner):
    task = queue(owner)
    first = claim_next_task(None)
    second = claim_next_task(None)
    assert first.pk == task.pk and first.status == S.ASSIGNED and first.attempts == 1
    assert second is None


def test_priority_wins(owner):
    low = queue(owner, Priority.LOW)
    crit = queue(owner, Priority.CRITICAL)
    normal = queue(owner, Priority.NORMAL)
    assert rank_candidates() == [crit.pk, normal.pk, low.pk]


def test_fair_share_puts_idle_owners_first(owner, outsider):
    busy = queue(owner)
    transition(claim_next_task(None), S.RUNNING)  # owner now has one task running
    assert busy.pk  # (claimed above)
    mine = queue(owner)
    theirs = queue(outsider)
    assert rank_candidates() == [theirs.pk, mine.pk]


def test_model_affinity_breaks_ties(owner, builtin_models):
    emt, seven = builtin_models["emt"], builtin_models["sevennet-0"]
    first = queue(owner, model=seven)
    second = queue(owner, model=emt)
    assert rank_candidates() == [first.pk, second.pk]
    assert rank_candidates(loaded_model_ids=[emt.pk]) == [second.pk, first.pk]


def test_a_disabled_node_claims_nothing(owner):
    from nodes_app.models import WorkerNode

    queue(owner)
    node = WorkerNode.objects.create(name="off", enabled=False)
    assert claim_next_task(node) is None


def test_a_claim_that_starts_at_once_passes_through_assigned_in_one_write(owner, django_capture_on_commit_callbacks):
    """The worker's claim moves on to RUNNING in the same transaction: both moves logged, the
    attempt born started, subscribers hear ASSIGNED then RUNNING (the state table holds)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tasks_app.signals import task_status_changed

    task = queue(owner)
    heard = []

    def listener(sender, task, previous, **kwargs):
        heard.append((previous, task.status))

    task_status_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True), CaptureQueriesContext(connection) as ctx:
            claimed = claim_next_task(None, start="on cpu")
    finally:
        task_status_changed.disconnect(listener)
    assert claimed.pk == task.pk and claimed.status == S.RUNNING and claimed.attempts == 1
    assert claimed.assigned_at == claimed.started_at is not None and claimed.lease_token
    # One fenced write for the claim and the start (on PostgreSQL inside the claim statement).
    writes = [q["sql"] for q in ctx.captured_queries if 'UPDATE "tasks_app_task"' in q["sql"]]
    assert len(writes) == 1, writes
    messages = list(claimed.log_lines.order_by("id").values_list("message", flat=True))
    assert messages[-2:] == ["status QUEUED → ASSIGNED: claimed", "status ASSIGNED → RUNNING: on cpu"]
    attempt = claimed.attempt_history.get()
    assert attempt.claimed_at and attempt.started_at and attempt.ended_at is None
    assert heard == [(S.QUEUED, S.ASSIGNED), (S.ASSIGNED, S.RUNNING)]
    assert claim_next_task(None, start="on cpu") is None  # claimed once


def test_start_goes_with_a_claim_only(owner):
    task = queue(owner)
    with pytest.raises(ValueError):
        transition(task, S.CANCELLED, start="on cpu")
