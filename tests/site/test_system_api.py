"""System API (issue 14): health with real dependency checks, GPUs, queue, redacted config."""

import json
from datetime import timedelta

import dramatiq
import pytest
from django.utils import timezone
from dramatiq.brokers.redis import RedisBroker
from rest_framework.test import APIClient

from nodes_app.models import WorkerNode
from tests.conftest import client_for, make_task

pytestmark = pytest.mark.django_db


def test_it_reports_every_dependency_healthy_without_credentials():
    response = APIClient().get("/api/v1/health", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "channel_layer", "workers"}
    for name in ("database", "broker", "channel_layer"):
        assert body["checks"][name]["status"] == "ok" and body["checks"][name]["latency_ms"] >= 0, body
    assert body["checks"]["broker"]["backend"] == "RedisBroker"
    assert body["checks"]["channel_layer"]["backend"] == "RedisChannelLayer"
    assert body["checks"]["workers"] == {**body["checks"]["workers"], "status": "none", "seen": 0}
    assert APIClient().get("/api/v1/health?require_workers=1").status_code == 503
    assert APIClient().get("/health/").status_code == 200  # the old probe still answers


def test_it_is_503_when_the_broker_is_unreachable():
    real = dramatiq.get_broker()
    dramatiq.set_broker(RedisBroker(url="redis://127.0.0.1:1/0"))  # nothing listens on port 1
    try:
        response = APIClient().get("/api/v1/health")
    finally:
        dramatiq.set_broker(real)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"]["status"] == "error" and "Connection" in body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["status"] == "ok"
    assert APIClient().get("/api/v1/health").status_code == 200  # and healthy again once it is back


def test_it_counts_heartbeating_workers():
    WorkerNode.objects.create(name="n1", status="online", last_heartbeat=timezone.now())
    WorkerNode.objects.create(name="old", status="online", last_heartbeat=timezone.now() - timedelta(hours=1))
    body = APIClient().get("/api/v1/health?require_workers=true").json()
    assert body["status"] == "ok" and body["checks"]["workers"]["seen"] == 1


def test_gpus_show_each_node_and_its_task_only_to_who_may_see_it(owner, outsider, operator, cu_structure, emt):
    from tasks_app.state import transition

    node = WorkerNode.objects.create(
        name="gpu-0", hostname="box", gpu_index=0, device="cuda", gpu_name="NVIDIA H200", gpu_memory_total_mb=143771,
        gpu_memory_used_mb=2048, gpu_utilization=37.5, status="online", last_heartbeat=timezone.now(),
        loaded_models=["emt"],
    )  # fmt: skip
    WorkerNode.objects.create(name="cpu-1", status="offline")
    task = make_task(owner, cu_structure, emt)
    transition(task, "ASSIGNED", node=node)
    rows = {row["node"]: row for row in client_for(owner).get("/api/v1/system/gpus").json()}
    gpu = rows["gpu-0"]
    assert gpu["gpu_name"] == "NVIDIA H200" and gpu["memory_total_mb"] == 143771 and gpu["utilization"] == 37.5
    assert gpu["alive"] is True and 0 <= gpu["heartbeat_age_s"] < 60 and gpu["loaded_models"] == ["emt"]
    assert gpu["busy"] is True
    assert gpu["current_task"] == {"id": str(task.pk), "kind": "single_point", "status": "ASSIGNED"}
    assert rows["cpu-1"]["busy"] is False and rows["cpu-1"]["heartbeat_age_s"] is None
    other = {r["node"]: r for r in client_for(outsider).get("/api/v1/system/gpus").json()}["gpu-0"]
    assert other["busy"] is True and other["current_task"] is None
    staff = {r["node"]: r for r in client_for(operator).get("/api/v1/system/gpus").json()}["gpu-0"]
    assert staff["current_task"]["id"] == str(task.pk)
    assert APIClient().get("/api/v1/system/gpus").status_code == 401


def test_queue_has_depth_per_priority_oldest_wait_and_running_per_node(owner, cu_structure, emt):
    from tasks_app.models import Task
    from tasks_app.state import transition

    node = WorkerNode.objects.create(name="gpu-0", status="online", last_heartbeat=timezone.now())
    tasks = [make_task(owner, cu_structure, emt) for _ in range(4)]
    Task.objects.filter(pk=tasks[0].pk).update(priority=3, queued_at=timezone.now() - timedelta(minutes=5))
    Task.objects.filter(pk=tasks[1].pk).update(priority=0)
    transition(tasks[3], "ASSIGNED", node=node)
    body = client_for(owner).get("/api/v1/system/queue").json()
    assert body["depth"] == {"CRITICAL": 1, "HIGH": 0, "NORMAL": 1, "LOW": 1} and body["queued"] == 3
    assert 299 < body["oldest_wait_s"] < 400
    assert body["running"] == [{"node": "gpu-0", "assigned": 1, "running": 0}]


def test_config_is_staff_only_and_redacts_secrets(owner, operator, settings):
    settings.DATABASE_URL = "postgres://mofsim:db-pass-123@db.internal:5432/mofsim"
    settings.BROKER_URL = "amqp://guest:amqp-pass-456@rabbit:5672/"
    settings.METRICS_TOKEN = "metrics-token-789"
    settings.EMAIL_HOST_PASSWORD = "smtp-pass-000"
    settings.STORAGES = {"default": {"OPTIONS": {"access_key": "AKIA-XYZ", "secret_key": "s3-secret-111"}}}
    assert client_for(owner).get("/api/v1/system/config").status_code == 403
    response = client_for(operator).get("/api/v1/system/config")
    assert response.status_code == 200
    text = json.dumps(response.json())
    for secret in (settings.SECRET_KEY, "db-pass-123", "amqp-pass-456", "metrics-token-789", "smtp-pass-000",
                   "AKIA-XYZ", "s3-secret-111"):  # fmt: skip
        assert secret not in text, secret
    config = response.json()
    assert config["DATABASE_URL"] == "postgres://mofsim:********@db.internal:5432/mofsim"
    assert config["SECRET_KEY"] == config["METRICS_TOKEN"] == "********"
    assert config["STORAGES"]["default"]["OPTIONS"]["secret_key"] == "********"
    assert config["TIME_ZONE"] == "UTC" and config["TASK_LEASE_TTL_S"] == settings.TASK_LEASE_TTL_S


def test_the_health_check_does_not_disturb_a_consumer_waiting_on_the_shared_layer(monkeypatch):
    """Regression: the check used to receive() on the process's shared channels_redis layer from
    its own loop; with a consumer already receiving on another loop that raised "Two event loops
    are trying to receive() on one channel layer at once!" (health said error, daphne is fine)."""
    import asyncio
    import threading

    from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers, get_channel_layer

    # A throwaway "shared" layer for this test, so the other tests' layer state is never touched.
    monkeypatch.setitem(channel_layers.backends, DEFAULT_CHANNEL_LAYER, channel_layers.make_backend("default"))
    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    try:
        channel = asyncio.run_coroutine_threadsafe(layer.new_channel(), loop).result(5)
        waiting = asyncio.run_coroutine_threadsafe(layer.receive(channel), loop)  # a consumer waiting
        body = APIClient().get("/api/v1/health").json()
        assert body["checks"]["channel_layer"]["status"] == "ok", body
        asyncio.run_coroutine_threadsafe(layer.send(channel, {"type": "ping"}), loop).result(5)
        assert waiting.result(5)["type"] == "ping"
    finally:
        loop.call_soon_threadsafe(loop.stop)
