"""Wiring of alert checks to the events they watch (connected from ``AlertsAppConfig.ready``)."""

from alerts_app import services
from nodes_app.signals import housekeeping_done, node_went_offline
from tasks_app.signals import task_status_changed


def _on_task_status(sender, task, previous, **kwargs):
    services.on_task_status(task)


def _on_node_offline(sender, node, **kwargs):
    services.on_node_offline(node)


def _on_housekeeping(sender, summary, **kwargs):
    services.check_queue_depth()


def connect() -> None:
    task_status_changed.connect(_on_task_status, dispatch_uid="alerts-task-status")
    node_went_offline.connect(_on_node_offline, dispatch_uid="alerts-node-offline")
    housekeeping_done.connect(_on_housekeeping, dispatch_uid="alerts-queue-depth")
