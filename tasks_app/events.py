"""Everything that happens *after* a task row changed: websocket pushes and alerts.

Called only from ``transaction.on_commit`` hooks, so listeners never see state the database
does not have. A push that fails (channel layer down) is logged, never raised: the row is the
truth and pages can always re-read it.
"""

import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

STAFF_TASKS_GROUP = "tasks-staff"


def task_group(task_id) -> str:
    return f"task-{task_id}"


def user_tasks_group(user_id) -> str:
    """Task-list pushes go per owner (and to staff), never to everyone."""
    return f"tasks-user-{user_id}"


def _send(group: str, event: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:  # noqa: BLE001 - a push must never break the state change
        logger.warning("websocket push to %s failed", group, exc_info=True)


def status_changed(task, previous: str) -> None:
    from alerts_app import services as alerts

    payload = {"task_id": str(task.id), "status": task.status, "previous": previous}
    html = render_to_string("tasks_app/partials/_status_oob.html", {"task": task})
    _send(task_group(task.id), {"type": "task.event", "event": "status", "data": payload, "html": html})
    row = render_to_string("tasks_app/partials/_task_row.html", {"task": task, "oob": True})
    for group in (user_tasks_group(task.owner_id), STAFF_TASKS_GROUP):
        _send(group, {"type": "task.event", "event": "status", "data": payload, "html": row})
    alerts.on_task_status(task)


def log_line(task_id, line) -> None:
    html = render_to_string("tasks_app/partials/_log_line.html", {"line": line, "oob": True})
    data = {"id": line.id, "level": line.level, "message": line.message, "created_at": line.created_at.isoformat()}
    _send(task_group(task_id), {"type": "task.event", "event": "log", "data": data, "html": html})


def progress(task, point: dict | None) -> None:
    point_json = (
        json.dumps({"step": point["step"], "data": {k: v for k, v in point.items() if k != "step"}}) if point else ""
    )
    html = render_to_string("tasks_app/partials/_progress.html", {"task": task, "oob": True, "point_json": point_json})
    data = {
        "step": task.progress_step,
        "total": task.progress_total,
        "metrics": task.progress,
        "point": point,
    }
    _send(task_group(task.id), {"type": "task.event", "event": "progress", "data": data, "html": html})
