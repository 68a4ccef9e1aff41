"""Double delivery runs a task once; cancel works for queued and running tasks (real worker)."""

import pytest

from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tasks_app.tasks import QUEUE, run_next_task
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)
S = TaskStatus


def submit(api, structure, **params):
    response = api.post(
        "/api/v1/tasks/optimization" if params else "/api/v1/tasks/single_point",
        {"structure": structure.pk, "model": "emt", **({"params": params} if params else {})},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_a_redelivered_message_runs_the_task_once(api, cu_structure, emt, worker, broker):
    task_id = submit(api, cu_structure)
    run_next_task.send(task_id)  # the broker delivers a second (duplicate) message
    run_next_task.send(task_id)  # and a third
    wait_for(lambda: Task.objects.get(pk=task_id).status == S.COMPLETED)
    broker.join(QUEUE, timeout=30_000)
    worker.join()
    task = Task.objects.get(pk=task_id)
    assert task.status == S.COMPLETED
    assert task.attempts == 1
    assert task.log_lines.filter(message__startswith="status ASSIGNED → RUNNING").count() == 1


def test_cancel_a_queued_task(api, cu_structure, emt, broker):
    task_id = submit(api, cu_structure)  # no worker running: it stays QUEUED
    response = api.post(f"/api/v1/tasks/{task_id}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "CANCELLED"
    again = api.post(f"/api/v1/tasks/{task_id}/cancel/")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    # A worker that now receives the message finds nothing to run.
    from tasks_app.scheduler import claim_next_task

    assert claim_next_task(None) is None


def test_cancel_a_running_task(api, owner, emt, worker, tmp_path):
    from ase.build import bulk
    from ase.io import write

    from structures_app.services import store_path

    big = bulk("Cu", "fcc", a=3.75, cubic=True).repeat((4, 4, 4))
    big.rattle(0.05, seed=3)
    write(tmp_path / "Cu256.cif", big)
    structure = store_path(tmp_path / "Cu256.cif", owner=owner, project="owner")
    task_id = submit(api, structure, fmax=1e-6, steps=100000)
    wait_for(lambda: Task.objects.get(pk=task_id).progress_step > 3, timeout=60)
    response = api.post(f"/api/v1/tasks/{task_id}/cancel/")
    assert response.status_code == 200
    wait_for(lambda: Task.objects.get(pk=task_id).log_lines.filter(message__contains="cancelled").count() >= 2)
    wait_for(lambda: Task.objects.get(pk=task_id).log_lines.filter(message__startswith="stopped").exists())
    task = Task.objects.get(pk=task_id)
    assert task.status == S.CANCELLED
    step_at_stop = task.progress_step
    assert step_at_stop < 100000
