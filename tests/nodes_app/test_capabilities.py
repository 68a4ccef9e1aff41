"""Model families as node capabilities: what a node reports, the claim filter, the wait reason.

A task whose model's family no online node can load waits with that reason; it runs once a
node whose environment has the family comes up (here: this process rebinds as that node).
"""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from models_app.models import MLModel
from nodes_app.services import record_heartbeat, register_local_node
from tasks_app.choices import TaskStatus
from tasks_app.scheduler import claim_next_task, rank_candidates
from tasks_app.waiting import wait_reason
from tests.conftest import make_task, wait_for

S = TaskStatus


def node_with(name: str, families: list[str]):
    node, _ = register_local_node(name, device="cpu")
    return record_heartbeat(node, {"families": families, "boot": True})


@pytest.fixture
def orb_model(db):
    return MLModel.objects.create(name="orb-v3", family="orb", config={"model_name": "orb-v3-conservative-inf-omat"})


@pytest.mark.django_db
def test_it_records_the_families_a_node_reports_over_http():
    node, token = register_local_node("host/gpu0", device="cuda")
    body = {"name": node.name, "families": ["mace", "sevennet"], "versions": {"sevenn": "0.10.4"}}
    response = APIClient().post("/api/v1/nodes/heartbeat", body, format="json", HTTP_AUTHORIZATION=f"Node {token}")
    assert response.status_code == 200, response.content
    node.refresh_from_db()
    assert node.families == ["mace", "sevennet"] and node.versions["sevenn"] == "0.10.4"
    bad = {"name": node.name, "families": "mace"}
    response = APIClient().post("/api/v1/nodes/heartbeat", bad, format="json", HTTP_AUTHORIZATION=f"Node {token}")
    assert response.status_code == 400 and "families" in response.json()["details"]


@pytest.mark.django_db
def test_the_claim_skips_tasks_whose_family_the_node_cannot_load(owner, cu_structure, emt, orb_model):
    orb_task = make_task(owner, cu_structure, orb_model)
    emt_task = make_task(owner, cu_structure, emt)
    assert rank_candidates() == [orb_task.pk, emt_task.pk]
    assert rank_candidates(families=["emt"]) == [emt_task.pk]
    assert rank_candidates(families=[]) == []
    node = node_with("emt-only", ["emt"])
    assert claim_next_task(node, families=node.families).pk == emt_task.pk
    assert claim_next_task(node, families=node.families) is None
    orb_node = node_with("orb-box", ["orb"])
    assert claim_next_task(orb_node, families=orb_node.families).pk == orb_task.pk


@pytest.mark.django_db
@override_settings(TASK_WAIT_EXPLAIN_AFTER_S=0)
def test_a_task_no_online_node_can_run_says_so(owner, cu_structure, orb_model):
    task = make_task(owner, cu_structure, orb_model)
    assert wait_reason(task).startswith("no worker node is online")
    node_with("sevennet-box", ["mace", "sevennet"])
    assert wait_reason(task) == (
        "no online worker node can run ORB models (capability 'orb'); "
        "it starts when a node whose environment has that family comes up"
    )
    node_with("orb-box", ["orb"])
    assert "idle" in wait_reason(task)


@pytest.mark.django_db(transaction=True)
def test_a_waiting_task_runs_when_a_capable_node_comes_up(worker, broker, owner, cu_structure, emt):
    from tasks_app import worker_context
    from tasks_app.reconciler import requeue_lost_messages
    from tasks_app.tasks import QUEUE

    sevennet_node = node_with("sevennet-box", ["sevennet"])
    worker_context.configure(sevennet_node, "cpu", families=sevennet_node.families)
    try:
        task = make_task(owner, cu_structure, emt)
        broker.join(QUEUE, timeout=60_000)
        worker.join()  # the wake-up reached a worker that cannot run EMT: nothing claimed
        task.refresh_from_db()
        assert task.status == S.QUEUED and task.node is None
        with override_settings(TASK_WAIT_EXPLAIN_AFTER_S=0):
            assert "no online worker node can run ASE EMT" in wait_reason(task)

        emt_node = node_with("emt-box", ["emt"])
        worker_context.configure(emt_node, "cpu", families=emt_node.families)  # this process is that node now
        assert requeue_lost_messages(now=timezone.now() + timedelta(hours=1)) == 1  # housekeeping re-sends
        wait_for(lambda: task.__class__.objects.get(pk=task.pk).status == S.COMPLETED, timeout=120)
        task.refresh_from_db()
        assert task.node_id == emt_node.pk
    finally:
        worker_context.configure(None, None)
