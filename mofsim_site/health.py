"""Dependency checks behind ``GET /api/v1/health`` (issue 14): database, broker, channel layer,
workers seen — each with its status and latency.

The web process is *degraded* (HTTP 503) when it cannot do its own job: store a row, send a
message, push to a page. No worker heartbeating is reported (``workers.status = "none"``) but
does not make the web process unhealthy — a load balancer should not take the API away because
the GPU nodes are down; ``?require_workers=1`` makes it count for monitors that want that.
Every check has a deadline (``HEALTH_CHECK_TIMEOUT_S``): a broker that black-holes packets must
not hang the probe.
"""

import asyncio
import threading
import time
import uuid
from datetime import timedelta

import dramatiq
from django.conf import settings
from django.db import connection
from django.utils import timezone

from nodes_app.choices import NodeStatus
from nodes_app.models import WorkerNode

CORE = ("database", "broker", "channel_layer")


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        extra = check() or {}
        result = {"status": "ok", **extra}
    except Exception as exc:  # noqa: BLE001 - a health probe reports, never raises
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
    result["latency_ms"] = round((time.monotonic() - started) * 1000, 2)
    return result


def _with_deadline(check, timeout: float) -> dict:
    """Run ``check`` in a daemon thread; report a timeout instead of waiting past ``timeout``."""
    box = {}
    thread = threading.Thread(target=lambda: box.update(result=_timed(check)), daemon=True)
    thread.start()
    thread.join(timeout)
    late = {"status": "error", "error": f"no answer within {timeout} s", "latency_ms": timeout * 1000}
    return box.get("result") or late


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_broker():
    broker = dramatiq.get_broker()
    client = getattr(broker, "client", None)  # RedisBroker
    if client is not None:
        client.ping()
    elif hasattr(broker, "connection") and not broker.connection.is_open:  # RabbitMQ: opening it is the check
        raise ConnectionError("broker connection is closed")
    return {"backend": type(broker).__name__}


def check_channel_layer():
    """A real round trip: send to a fresh channel and receive it back.

    On a *private* layer instance and event loop: ``receive()`` binds a channels_redis layer to
    the loop it runs on, so using the process's shared layer here would break the websocket
    consumers' receives ("Two event loops are trying to receive() on one channel layer")."""
    from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers

    if not settings.CHANNEL_LAYERS.get(DEFAULT_CHANNEL_LAYER):
        raise RuntimeError("no channel layer configured")
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)

    async def round_trip():
        try:
            channel = await layer.new_channel()
            token = uuid.uuid4().hex
            await layer.send(channel, {"type": "health.check", "token": token})
            message = await layer.receive(channel)
            if message.get("token") != token:
                raise RuntimeError("channel layer returned a different message")
        finally:
            close = getattr(layer, "close_pools", None)
            if close is not None:
                await close()

    asyncio.run(asyncio.wait_for(round_trip(), settings.HEALTH_CHECK_TIMEOUT_S))
    return {"backend": type(layer).__name__}


def check_workers():
    since = timezone.now() - timedelta(seconds=settings.NODE_OFFLINE_AFTER_S)
    seen = WorkerNode.objects.filter(status=NodeStatus.ONLINE, last_heartbeat__gte=since).count()
    return {"seen": seen}


def run_checks(require_workers: bool = False) -> tuple[bool, dict]:
    """All checks; returns (healthy, per-check results)."""
    timeout = settings.HEALTH_CHECK_TIMEOUT_S
    checks = {
        "database": _timed(check_database),  # in this thread: Django connections are per thread
        "broker": _with_deadline(check_broker, timeout),
        "channel_layer": _with_deadline(check_channel_layer, timeout + 1),
        "workers": _timed(check_workers),
    }
    workers = checks["workers"]
    if workers["status"] == "ok" and not workers["seen"]:
        workers["status"] = "none"
    required = CORE + (("workers",) if require_workers else ())
    healthy = all(checks[name]["status"] == "ok" for name in required)
    return healthy, checks
