"""A final state's pushes ask once whether the task page is open (``mofsim_site.push.one_answer``, issue 12).

The status, progress and log pushes of the final write all go to the task page's group and all
run at its commit; they share one answer. What is pushed is unchanged: with a page open, every
one of them still goes out, in order; with none, nothing is rendered.
"""

import pytest

from mofsim_site import push
from tasks_app import events
from tasks_app.choices import TaskStatus
from tests.conftest import make_task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def asked(monkeypatch):
    """Every group ``listened`` asks Redis about; pages open for ``open_groups``."""
    calls: list[list[str]] = []
    open_groups: set[str] = set()

    def ask(groups):
        calls.append(list(groups))
        return {group for group in groups if group in open_groups}

    monkeypatch.setattr(push, "_ask", ask)
    return calls, open_groups


@pytest.fixture
def pushed(monkeypatch):
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(events, "push", lambda batch: sent.extend((g, m["event"]) for g, m in batch))
    return sent


def test_within_one_answer_each_group_is_asked_once(asked):
    calls, open_groups = asked
    open_groups.add("task-a")
    with push.one_answer():
        assert push.listened(["task-a"]) == {"task-a"}
        with push.one_answer():  # nested: the outer block's answers
            assert push.listened(["task-a", "task-b"]) == {"task-a"}
        assert push.listened(["task-b"]) == set()
    assert calls == [["task-a"], ["task-b"]]
    push.listened(["task-a"])  # outside any block: asked every time
    push.listened(["task-a"])
    assert calls[2:] == [["task-a"], ["task-a"]]


def test_a_run_asks_twice_for_the_task_page_and_pushes_as_before(owner, cu_structure, emt, run_inline, asked,
                                                                  pushed):  # fmt: skip
    calls, open_groups = asked
    task = make_task(owner, cu_structure, emt)
    group = events.task_group(task.pk)
    open_groups.add(group)
    done = run_inline(task, device="cpu")
    assert done.status == TaskStatus.COMPLETED
    # Once for the claim's RUNNING push, once for all of the final state's (was one per push).
    assert sum(group in c for c in calls) == 2
    page = [event for g, event in pushed if g == group]
    assert page[0] == "status" and page[-2:] == ["status", "progress"]  # RUNNING; COMPLETED, then its chart
    assert page.count("status") == 2


def test_nothing_is_pushed_to_a_page_nobody_has_open(owner, cu_structure, emt, run_inline, asked, pushed):
    calls, _ = asked
    task = make_task(owner, cu_structure, emt)
    assert run_inline(task, device="cpu").status == TaskStatus.COMPLETED
    assert sum(events.task_group(task.pk) in c for c in calls) == 2
    assert not [g for g, _ in pushed if g == events.task_group(task.pk)]
