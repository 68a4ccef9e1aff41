"""Raising alerts: match enabled rules to an event, store an Alert row, deliver after commit."""

import logging

from django.db import transaction
from django.db.models import Q

from alerts_app.choices import AlertEvent
from alerts_app.models import Alert, AlertRule
from tasks_app.choices import TaskStatus
from tasks_app.models import Task

logger = logging.getLogger(__name__)


def raise_alert(rule: AlertRule, event: str, subject: str, message: str, payload: dict) -> Alert:
    alert = Alert.objects.create(rule=rule, event=event, subject=subject, message=message, payload=payload)
    transaction.on_commit(lambda: _enqueue_delivery(alert.pk))
    return alert


def _enqueue_delivery(alert_id: int) -> None:
    from alerts_app.tasks import deliver_alert  # deferred: keeps the broker out of importing services

    try:
        deliver_alert.send(alert_id)
    except Exception:  # noqa: BLE001
        logger.warning("could not enqueue delivery of alert %s", alert_id, exc_info=True)


def on_task_status(task) -> list[Alert]:

    event = {TaskStatus.FAILED: AlertEvent.TASK_FAILED, TaskStatus.TIMEOUT: AlertEvent.TASK_TIMEOUT}.get(task.status)
    if event is None:
        return []
    rules = AlertRule.objects.filter(enabled=True, event=event).filter(
        Q(only_own_tasks=False, owner__is_staff=True) | Q(owner_id=task.owner_id)
    )
    subject = f"[mofsim] {task.kind} task {str(task.pk)[:8]} {task.status.lower()}"
    message = f"Task {task.pk} ({task.kind}) ended {task.status}: {task.error or 'no error recorded'}"
    payload = {"event": event, "task_id": str(task.pk), "status": task.status, "error": task.error}
    return [raise_alert(rule, event, subject, message, payload) for rule in rules]


def on_node_offline(node) -> list[Alert]:
    rules = AlertRule.objects.filter(enabled=True, event=AlertEvent.NODE_OFFLINE, owner__is_staff=True)
    subject = f"[mofsim] node {node.name} offline"
    message = f"Node {node.name} sent no heartbeat since {node.last_heartbeat}."
    payload = {"event": AlertEvent.NODE_OFFLINE, "node": node.name}
    return [raise_alert(rule, AlertEvent.NODE_OFFLINE, subject, message, payload) for rule in rules]


def check_queue_depth() -> list[Alert]:
    """Alert once each time the queue depth rises above a rule's threshold (not on every pass)."""

    depth = Task.objects.filter(status=TaskStatus.QUEUED).count()
    raised = []
    for rule in AlertRule.objects.filter(enabled=True, event=AlertEvent.QUEUE_DEPTH, owner__is_staff=True):
        if rule.threshold is None:
            continue
        last = rule.alerts.order_by("-created_at").first()
        already_above = last is not None and last.payload.get("above", False)
        if depth > rule.threshold and not already_above:
            raised.append(
                raise_alert(
                    rule,
                    AlertEvent.QUEUE_DEPTH,
                    f"[mofsim] queue depth {depth}",
                    f"{depth} tasks are queued (threshold {rule.threshold}).",
                    {"event": AlertEvent.QUEUE_DEPTH, "depth": depth, "above": True},
                )
            )
        elif depth <= rule.threshold and already_above:
            Alert.objects.create(
                rule=rule,
                event=AlertEvent.QUEUE_DEPTH,
                subject="queue depth back to normal",
                message=f"{depth} queued",
                payload={"depth": depth, "above": False},
                delivery=Alert.Delivery.SENT,
            )
    return raised
