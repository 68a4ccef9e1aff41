"""Every legal and illegal transition of the task state machine (DESIGN.md rule 2)."""

import itertools

import pytest

from tasks_app.choices import TERMINAL, TRANSITIONS, TaskStatus
from tasks_app.models import Task, TaskLogLine
from tasks_app.state import IllegalTransition, transition

S = TaskStatus
pytestmark = pytest.mark.django_db

ALL_PAIRS = list(itertools.product(S.values, S.values))
LEGAL = [(a, b) for a, b in ALL_PAIRS if b in TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if b not in TRANSITIONS[a]]


def make_task(owner, status):
    task = Task.objects.create(owner=owner, kind="single_point")
    Task.objects.filter(pk=task.pk).update(status=status)  # test set-up only
    task.refresh_from_db()
    return task


def test_the_table_has_both_kinds_of_pairs():
    assert len(LEGAL) == 15  # 3 from PENDING, 3 QUEUED, 4 ASSIGNED, 5 RUNNING
    assert len(LEGAL) + len(ILLEGAL) == 64
    assert all(not TRANSITIONS[s] for s in TERMINAL)


@pytest.mark.parametrize(("source", "target"), LEGAL)
def test_it_allows_legal_transitions(owner, source, target):
    task = make_task(owner, source)
    transition(task, target)
    task.refresh_from_db()
    assert task.status == target
    line = TaskLogLine.objects.filter(task=task).last()
    assert line.message.startswith(f"status {source} → {target}")


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_it_refuses_illegal_transitions(owner, source, target):
    task = make_task(owner, source)
    with pytest.raises(IllegalTransition) as info:
        transition(task, target)
    assert info.value.current == source
    task.refresh_from_db()
    assert task.status == source
    assert not TaskLogLine.objects.filter(task=task).exists()


def test_it_stamps_times_in_order(owner):
    task = make_task(owner, S.PENDING)
    for target in (S.QUEUED, S.ASSIGNED, S.RUNNING, S.COMPLETED):
        transition(task, target)
    assert task.queued_at <= task.assigned_at <= task.started_at <= task.finished_at


def test_fail_over_to_queued_forgets_the_node(owner):
    from nodes_app.models import WorkerNode

    node = WorkerNode.objects.create(name="n1")
    task = make_task(owner, S.PENDING)
    transition(task, S.QUEUED)
    transition(task, S.ASSIGNED, node=node)
    transition(task, S.RUNNING)
    transition(task, S.QUEUED, message="node lost")
    assert task.node is None and task.started_at is None and task.status == S.QUEUED


def test_only_from_narrows_the_sources(owner):
    task = make_task(owner, S.RUNNING)
    with pytest.raises(IllegalTransition):
        transition(task, S.CANCELLED, only_from=S.QUEUED)
    assert Task.objects.get(pk=task.pk).status == S.RUNNING
