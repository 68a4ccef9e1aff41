"""The one-statement claim (``tasks_app.claim_statement``, PostgreSQL) against the reference path.

The reference is the claim through ``transition`` that SQLite uses (``scheduler._claim``): the
statement must leave the same row, log lines, attempt row and events, hand back an instance with
the same cached relations, and take tasks in the order ``rank_candidates`` gives (priority, fair
share, model affinity, FIFO)."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks_app.choices import Priority, TaskStatus
from tasks_app.models import TaskCallback, TaskLogLine
from tasks_app.scheduler import _claim, claim_next_task, claim_task, rank_candidates
from tasks_app.services import enqueue_task
from tasks_app.signals import task_status_changed

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="the statement is PostgreSQL's"
    ),
]
S = TaskStatus
COMPARED = ("status", "attempts", "node_id", "error", "progress_step", "params", "priority", "owner_id", "kind")


def queue(owner, priority=Priority.NORMAL, model=None, structure=None):
    return enqueue_task(owner=owner, kind="single_point", params={"fmax": 0.05}, model=model, structure=structure,
                        priority=priority)  # fmt: skip


def heard_during(action):
    heard = []

    def listener(sender, task, previous, **kwargs):
        heard.append((previous, task.status))

    task_status_changed.connect(listener)
    try:
        result = action()
    finally:
        task_status_changed.disconnect(listener)
    return result, heard


@pytest.mark.parametrize("start", [None, "on cuda:0"])
def test_it_leaves_what_the_transition_path_leaves(owner, cu_structure, emt, start, django_capture_on_commit_callbacks):
    from nodes_app.models import WorkerNode

    node = WorkerNode.objects.create(name="gpu-node-0")
    reference, fast = queue(owner, model=emt, structure=cu_structure), queue(owner, model=emt, structure=cu_structure)
    TaskCallback.objects.create(task=fast, url="https://example.org/hook", events=["COMPLETED"], secret="s")
    with django_capture_on_commit_callbacks(execute=True):
        ref, ref_heard = heard_during(lambda: _claim(reference.pk, node, start))
    with django_capture_on_commit_callbacks(execute=True):
        got, got_heard = heard_during(lambda: claim_task_now(fast.pk, node, start))
    assert got is not None and got.pk == fast.pk
    assert got_heard == ref_heard
    for name in COMPARED:
        assert getattr(got, name) == getattr(ref, name), name
    assert got.lease_token and got.lease_token != ref.lease_token
    assert got.assigned_at and got.lease_expires_at > got.assigned_at
    assert (got.started_at is not None) == (start is not None) == (ref.started_at is not None)
    fresh = type(got).objects.get(pk=got.pk)  # the instance is what the database holds
    for name in (*COMPARED, "lease_token", "assigned_at", "started_at", "lease_expires_at", "updated_at"):
        assert getattr(fresh, name) == getattr(got, name), name
    lines = [list(t.log_lines.order_by("id").values_list("level", "source", "message")) for t in (ref, got)]
    assert lines[0] == lines[1]
    columns = ("number", "node_id", "node_name", "ended_at", "outcome")
    history = [list(t.attempt_history.values(*columns)) for t in (ref, got)]
    assert history[0] == history[1]
    assert got.attempt_history.get().started_at == got.started_at
    with CaptureQueriesContext(connection) as ctx:  # what the worker and the events read next: cached
        assert got.structure == cu_structure and got.model == emt and got.node == node
        assert got.callback.url == "https://example.org/hook" and got.callback.events == ["COMPLETED"]
        assert [a.number for a in got.attempt_history.all()] == [1]
    assert not ctx.captured_queries


def claim_task_now(task_id, node, start):
    """The statement for one given task (a batched pass's companion takes no ``start``)."""
    if start is None:
        return claim_task(task_id, node)
    from tasks_app import claim_statement
    from tasks_app.models import Task

    head = claim_statement.compile_head(Task.objects.filter(pk=task_id, status=S.QUEUED))
    return claim_statement.claim(head, node, start=start)


def test_the_pushed_lines_carry_their_row_ids(owner, django_capture_on_commit_callbacks):
    task = queue(owner)
    with django_capture_on_commit_callbacks(execute=False) as hooks:
        claimed = claim_next_task(None, start="on cpu")
    assert claimed.pk == task.pk and hooks
    rows = list(TaskLogLine.objects.filter(task=task).order_by("id").values_list("id", "message"))
    assert [m for _, m in rows[-2:]] == ["status QUEUED → ASSIGNED: claimed", "status ASSIGNED → RUNNING: on cpu"]


def test_it_takes_tasks_in_the_reference_ranking_order(owner, outsider, operator, builtin_models):
    """Priority, then fair share (held counts change with every claim), then affinity, then FIFO:
    each claim takes what ``rank_candidates`` ranks first at that moment."""
    emt, seven = builtin_models["emt"], builtin_models["sevennet-0"]
    for who in (owner, owner, owner, outsider, operator):
        for priority in (Priority.LOW, Priority.NORMAL, Priority.HIGH):
            queue(who, priority, model=seven)
            queue(who, priority, model=emt)
    taken = []
    while expected := rank_candidates(loaded_model_ids=[emt.pk]):
        claimed = claim_next_task(None, loaded_model_ids=[emt.pk])
        assert claimed.pk == expected[0], f"claim {len(taken) + 1}"
        taken.append(claimed)
    assert len(taken) == 30
    assert claim_next_task(None) is None


def test_families_and_kinds_filter_the_window(owner, builtin_models, temp_kind):
    emt, seven = builtin_models["emt"], builtin_models["sevennet-0"]
    seven_task, emt_task = queue(owner, model=seven), queue(owner, model=emt)
    assert claim_next_task(None, families=[emt.family]).pk == emt_task.pk
    assert claim_next_task(None, families=[emt.family]) is None
    assert claim_next_task(None, kinds=["no_such_kind"]) is None
    assert claim_next_task(None, kinds=["single_point"]).pk == seven_task.pk
