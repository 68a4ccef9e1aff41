"""Two workers claiming groups at once (issue 13): every task in exactly one group, none twice.

PostgreSQL only, like test_claim_concurrency: each companion is locked with ``FOR UPDATE SKIP
LOCKED``, and real concurrent transactions are what the test is about (SQLite serialises writers)."""

import threading

import pytest
from ase.build import bulk
from ase.io import write
from django.conf import settings
from django.db import connection

from models_app.models import MLModel
from tasks_app.choices import TaskStatus
from tasks_app.group_claim import claim_group
from tasks_app.models import Task
from tasks_app.params import validate_params
from tasks_app.scheduler import claim_next_task
from tasks_app.services import enqueue_task

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="row locks need PostgreSQL"
    ),
]
TASKS = 30


def test_two_claimers_take_every_task_once_in_groups(owner, tmp_path, settings):
    from structures_app.services import store_path

    settings.WORKER_CLAIM_BATCH = 4
    model = MLModel.objects.create(name="mace-claims", family="mace", validation_status="valid")
    write(tmp_path / "cu.cif", bulk("Cu", "fcc", a=3.6, cubic=True))
    cu = store_path(tmp_path / "cu.cif", owner=owner, project=owner.username, name="cu")
    params = validate_params("single_point", {}, "quick")
    for _ in range(TASKS):
        enqueue_task(owner=owner, kind="single_point", params=params, structure=cu, model=model)
    groups: list[list] = []
    errors: list = []
    lock = threading.Lock()
    start = threading.Barrier(2)

    def claimer():
        try:
            start.wait()
            while (first := claim_next_task(None)) is not None:
                group = claim_group(first, None, "cpu")
                with lock:
                    groups.append([t.pk for t in group])
        except Exception as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=claimer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    claimed = [pk for group in groups for pk in group]
    assert len(claimed) == len(set(claimed)) == TASKS
    assert all(1 <= len(group) <= 4 for group in groups) and len(groups) >= TASKS // 4
    assert set(Task.objects.values_list("status", flat=True)) == {TaskStatus.ASSIGNED}
    assert Task.objects.filter(attempts=1).count() == TASKS
