"""The task state machine, checked against a table written out by hand (not read from TRANSITIONS).

Each (from, to) pair is tried on a real row: the allowed moves succeed and stamp their time,
every other move raises IllegalTransition and leaves the row untouched.
"""

import pytest

from tasks_app.models import Task
from tasks_app.state import IllegalTransition, transition

pytestmark = pytest.mark.django_db

STATES = ["PENDING", "QUEUED", "ASSIGNED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"]

# from → the states it may move to. QUEUED from ASSIGNED/RUNNING is fail-over; nothing leaves a final state.
ALLOWED = {
    "PENDING": {"QUEUED", "CANCELLED", "FAILED"},
    "QUEUED": {"ASSIGNED", "CANCELLED", "FAILED"},
    "ASSIGNED": {"RUNNING", "QUEUED", "CANCELLED", "FAILED"},
    "RUNNING": {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "QUEUED"},
    "COMPLETED": set(),
    "FAILED": set(),
    "CANCELLED": set(),
    "TIMEOUT": set(),
}
STAMP = {"ASSIGNED": "assigned_at", "RUNNING": "started_at", "COMPLETED": "finished_at", "FAILED": "finished_at",
         "CANCELLED": "finished_at", "TIMEOUT": "finished_at"}  # fmt: skip


@pytest.mark.parametrize("source", STATES)
@pytest.mark.parametrize("target", STATES)
def test_every_move_follows_the_table(owner, source, target):
    task = Task.objects.create(owner=owner, kind="single_point", params={})
    Task.objects.filter(pk=task.pk).update(status=source)
    if target in ALLOWED[source]:
        moved = transition(Task(pk=task.pk), target)
        assert moved.status == target
        if target in STAMP:
            assert getattr(moved, STAMP[target]) is not None
        assert moved.log_lines.filter(message__startswith=f"status {source} → {target}").count() == 1
    else:
        with pytest.raises(IllegalTransition):
            transition(Task(pk=task.pk), target)
        assert Task.objects.get(pk=task.pk).status == source
        assert not Task.objects.get(pk=task.pk).log_lines.exists()
