"""Operators load and unload models on nodes: the API/admin writes commands, the node's worker runs them."""

import pytest
from django.utils import timezone

from models_app import cache
from nodes_app.choices import NodeStatus
from nodes_app.commands import CommandRunner
from nodes_app.models import NodeCommand, WorkerNode
from nodes_app.services import register_local_node
from tests.conftest import client_for, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def online_node():
    node, _ = register_local_node("box/gpu0", device="cpu")
    WorkerNode.objects.filter(pk=node.pk).update(status=NodeStatus.ONLINE, last_heartbeat=timezone.now())
    return node


def test_staff_load_a_model_on_every_online_node_and_the_worker_does_it(operator, emt, online_node):
    cache.unload()
    response = client_for(operator).post("/api/v1/models/emt/load", {}, format="json")
    assert response.status_code == 202, response.content
    [command] = response.json()
    assert command["node"] == "box/gpu0" and command["state"] == "pending" and command["action"] == "load"

    runner = CommandRunner("box/gpu0", "cpu")  # what the node's heartbeat thread polls
    runner.poll()
    done = wait_for(lambda: NodeCommand.objects.filter(pk=command["id"], state="done").first(), timeout=30)
    assert "emt" in cache.loaded_names() and "loaded on cpu" in done.message

    unload = client_for(operator).post("/api/v1/models/emt/unload", {"nodes": ["box/gpu0"]}, format="json")
    assert unload.status_code == 202
    runner.poll()
    wait_for(lambda: NodeCommand.objects.filter(pk=unload.json()[0]["id"], state="done").exists(), timeout=30)
    assert "emt" not in cache.loaded_names()
    listed = client_for(operator).get("/api/v1/nodes/commands/").json()
    assert [c["state"] for c in listed["results"]] == ["done", "done"]


def test_only_staff_may_send_and_bad_names_are_400(owner, operator, emt, online_node):
    assert client_for(owner).post("/api/v1/models/emt/load", {}, format="json").status_code == 403
    missing = client_for(operator).post("/api/v1/models/nope/load", {}, format="json")
    assert missing.status_code == 400 and "no enabled, validated model" in missing.json()["message"] + str(
        missing.json()["details"]
    )
    no_node = client_for(operator).post("/api/v1/models/emt/load", {"nodes": ["ghost/gpu9"]}, format="json")
    assert no_node.status_code == 400 and "ghost/gpu9" in str(no_node.json())
    assert not NodeCommand.objects.exists()


def test_a_failed_load_is_reported_on_the_command(operator, emt, online_node, monkeypatch):
    from nodes_app import commands

    def broken(*args, **kwargs):
        raise RuntimeError("CUDA out of memory")

    monkeypatch.setattr(commands.cache, "get_calculator", broken)
    client_for(operator).post("/api/v1/models/emt/load", {}, format="json")
    CommandRunner("box/gpu0", "cpu").poll()
    failed = wait_for(lambda: NodeCommand.objects.filter(state="failed").first(), timeout=30)
    assert "CUDA out of memory" in failed.message
