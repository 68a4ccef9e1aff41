"""Heartbeats with good and bad tokens; a silent node goes offline and its tasks fail over."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from nodes_app.choices import NodeStatus
from nodes_app.models import WorkerNode
from nodes_app.services import mark_stale_node, register_local_node
from tasks_app.choices import TaskStatus
from tasks_app.scheduler import claim_next_task
from tasks_app.services import enqueue_task
from tasks_app.state import transition

pytestmark = pytest.mark.django_db


def beat(name, token, **facts):
    return APIClient().post(
        "/api/v1/nodes/heartbeat", {"name": name, **facts}, format="json", HTTP_AUTHORIZATION=f"Node {token}"
    )


def test_a_good_token_marks_the_node_online():
    node, token = register_local_node("host/gpu0", gpu_index=0, device="cuda")
    response = beat(node.name, token, gpu_name="NVIDIA H200", gpu_memory_total_mb=143_000, gpu_memory_used_mb=2048)
    assert response.status_code == 200, response.content
    node.refresh_from_db()
    assert node.status == NodeStatus.ONLINE and node.is_alive
    assert node.gpu_name == "NVIDIA H200" and node.gpu_memory_used_mb == 2048


def test_a_bad_token_is_rejected_and_logged(caplog):
    node, _ = register_local_node("host/gpu1")
    with caplog.at_level(logging.WARNING, logger="nodes_app.services"):
        response = beat(node.name, "not-the-token")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "authentication_failed" and "token" in body["message"]
    assert "request_id" in body
    assert any("bad token" in r.getMessage() for r in caplog.records)
    node.refresh_from_db()
    assert node.status == NodeStatus.OFFLINE and node.last_heartbeat is None


def test_a_missing_token_is_rejected():
    node, _ = register_local_node("host/gpu2")
    response = APIClient().post("/api/v1/nodes/heartbeat", {"name": node.name}, format="json")
    assert response.status_code == 401


def test_a_token_only_fits_its_own_node():
    register_local_node("a")
    _, token_b = register_local_node("b")
    assert beat("a", token_b).status_code == 401


def test_only_the_token_hash_is_stored():
    node, token = register_local_node("hashy")
    assert token not in node.token_hash and len(node.token_hash) == 64


def test_a_silent_node_goes_offline_after_the_timeout_and_its_task_is_requeued(owner, settings):
    node, token = register_local_node("host/gpu3")
    assert beat(node.name, token).status_code == 200
    task = enqueue_task(owner=owner, kind="single_point", params={})
    claimed = claim_next_task(node)
    transition(claimed, TaskStatus.RUNNING)

    soon = timezone.now() + timedelta(seconds=settings.NODE_OFFLINE_AFTER_S - 5)
    assert mark_stale_node(soon) is False
    node.refresh_from_db()
    assert node.status == NodeStatus.ONLINE

    later = timezone.now() + timedelta(seconds=settings.NODE_OFFLINE_AFTER_S + 1)
    assert mark_stale_node(later) is True
    node.refresh_from_db()
    task.refresh_from_db()
    assert node.status == NodeStatus.OFFLINE and not node.is_alive
    assert task.status == TaskStatus.QUEUED and task.node is None
    assert task.log_lines.filter(message__contains="went silent").exists()
    assert mark_stale_node(later) is False  # nothing left to reap


def test_a_task_that_keeps_losing_its_node_fails(owner, settings):
    settings.TASK_MAX_ATTEMPTS = 1
    node, token = register_local_node("host/gpu4")
    beat(node.name, token)
    task = enqueue_task(owner=owner, kind="single_point", params={})
    transition(claim_next_task(node), TaskStatus.RUNNING)
    mark_stale_node(timezone.now() + timedelta(seconds=settings.NODE_OFFLINE_AFTER_S + 1))
    task.refresh_from_db()
    assert task.status == TaskStatus.FAILED and "went silent" in task.error


def test_a_disabled_node_stays_disabled_when_it_beats(operator):
    node, token = register_local_node("host/gpu5")
    client = APIClient()
    client.force_authenticate(operator)
    assert client.post(f"/api/v1/nodes/{node.pk}/disable").status_code == 200
    beat(node.name, token)
    node.refresh_from_db()
    assert node.status == NodeStatus.DISABLED and not node.enabled
    assert WorkerNode.objects.get(pk=node.pk).last_heartbeat is not None


def test_researchers_cannot_disable_nodes(owner):
    node, _ = register_local_node("host/gpu6")
    client = APIClient()
    client.force_authenticate(owner)
    assert client.post(f"/api/v1/nodes/{node.pk}/disable").status_code == 403
