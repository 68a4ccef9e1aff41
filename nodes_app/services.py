"""Node registration, heartbeats and the stale-node reaper (with task fail-over)."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from nodes_app import events
from nodes_app.choices import NodeStatus
from nodes_app.models import WorkerNode
from nodes_app.signals import node_went_offline
from tasks_app import leases
from tasks_app.models import Task
from tasks_app.state import HELD

logger = logging.getLogger(__name__)

HEARTBEAT_FIELDS = {
    "hostname",
    "device",
    "gpu_index",
    "gpu_name",
    "gpu_memory_total_mb",
    "gpu_memory_used_mb",
    "gpu_utilization",
    "loaded_models",
    "families",
    "versions",
    "pid",
}


class BadNodeToken(Exception):
    pass


def register_local_node(name: str, **facts) -> tuple[WorkerNode, str]:
    """Create (or take over) the node row for a local worker and issue it a fresh token."""
    node, _ = WorkerNode.objects.get_or_create(name=name)
    for key, value in facts.items():
        if key in HEARTBEAT_FIELDS:
            setattr(node, key, value)
    node.save()
    return node, node.issue_token()


def authenticate_node(name: str, token: str) -> WorkerNode:
    node = WorkerNode.objects.filter(name=name).first()
    if node is None or not node.check_token(token):
        logger.warning("rejected heartbeat for node %r: bad token", name)
        raise BadNodeToken(name)
    return node


def record_heartbeat(node: WorkerNode, payload: dict) -> WorkerNode:
    """Store a heartbeat. A disabled node keeps its DISABLED status (the operator's choice).

    The heartbeat also says which attempt the process runs (``task``, ``lease``); what the node
    holds beyond that is failed over — at once on a ``boot`` heartbeat (a new process holds
    nothing), otherwise once it is older than a heartbeat interval (a claim may be newer than
    the facts the heartbeat carries).
    """
    release_unreported_tasks(node, payload.get("lease"), boot=bool(payload.get("boot")))
    updates = {k: v for k, v in payload.items() if k in HEARTBEAT_FIELDS}
    updates["last_heartbeat"] = timezone.now()
    was = node.status
    if node.enabled:
        updates["status"] = NodeStatus.ONLINE
    WorkerNode.objects.filter(pk=node.pk).update(**updates)
    node.refresh_from_db()
    transaction.on_commit(lambda: events.node_changed(node, was))
    return node


def set_enabled(node: WorkerNode, enabled: bool) -> WorkerNode:
    node.enabled = enabled
    if not enabled:
        node.status = NodeStatus.DISABLED
    elif node.status == NodeStatus.DISABLED:
        node.status = NodeStatus.OFFLINE
    node.save(update_fields=["enabled", "status"])
    transaction.on_commit(lambda: events.node_changed(node, None))
    return node


def mark_stale_node(now=None) -> bool:
    """One reaper step: mark one silent ONLINE node OFFLINE and fail its tasks over. True if done."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.NODE_OFFLINE_AFTER_S)
    stale = WorkerNode.objects.filter(status=NodeStatus.ONLINE, last_heartbeat__lt=cutoff).first()
    if stale is None:
        return False
    if not WorkerNode.objects.filter(pk=stale.pk, status=NodeStatus.ONLINE, last_heartbeat__lt=cutoff).update(
        status=NodeStatus.OFFLINE
    ):
        return True  # someone else reaped it (or it came back); try again for the next node
    stale.refresh_from_db()
    logger.warning("node %s is offline (last heartbeat %s)", stale.name, stale.last_heartbeat)
    fail_over_tasks(stale)
    transaction.on_commit(lambda: events.node_changed(stale, NodeStatus.ONLINE))
    transaction.on_commit(lambda: node_went_offline.send_robust(sender=WorkerNode, node=stale))
    return True


def fail_over_tasks(node: WorkerNode) -> int:
    """Tasks the silent node held go back to the queue, or fail after TASK_MAX_ATTEMPTS."""
    return leases.fail_over_all(list(Task.objects.filter(node=node, status__in=HELD)), f"node {node.name} went silent")


def release_unreported_tasks(node: WorkerNode, lease_token, boot: bool = False, now=None) -> int:
    """Fail over tasks ``node`` holds that its process does not report running."""
    held = Task.objects.filter(node=node, status__in=HELD)
    if lease_token:
        held = held.exclude(lease_token=lease_token)
    if boot:
        why = f"worker {node.name} restarted"
    else:
        now = now or timezone.now()
        held = held.filter(assigned_at__lt=now - timedelta(seconds=max(5, settings.NODE_HEARTBEAT_INTERVAL_S)))
        why = f"worker {node.name} is not running it"
    tasks = list(held)
    return leases.fail_over_all(tasks, why) if tasks else 0
