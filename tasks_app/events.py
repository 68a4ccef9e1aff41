"""Everything that happens *after* a task row changed: websocket pushes and alerts.

Called only from ``transaction.on_commit`` hooks, so listeners never see state the database
does not have. A push that fails (channel layer down) is logged, never raised: the row is the
truth and pages can always re-read it.
"""

import json
import logging

from django.template.loader import render_to_string

from mofsim_site.push import push

logger = logging.getLogger(__name__)

STAFF_TASKS_GROUP = "tasks-staff"


def task_group(task_id) -> str:
    return f"task-{task_id}"


def user_tasks_group(user_id) -> str:
    """Task-list pushes go per owner (and to staff), never to everyone."""
    return f"tasks-user-{user_id}"


def status_changed(task, previous: str) -> None:
    """Push the task page's live fragment (status, progress, outcome, the transition's log line)
    to the task group and the list row to the owner's and staff's list groups, then alert."""
    from alerts_app import services as alerts

    payload = {"task_id": str(task.id), "status": task.status, "previous": previous}
    try:
        line = task.log_lines.filter(source="platform", message__startswith=f"status {previous} → {task.status}").last()
        html = render_to_string("tasks_app/partials/_task_live.html", {"task": task, "lines": [line] if line else []})
        row = render_to_string("tasks_app/partials/_task_row.html", {"task": task, "oob": True})
    except Exception:  # noqa: BLE001 - rendering must not break the state change either
        logger.warning("rendering the push for task %s failed", task.id, exc_info=True)
    else:
        row_event = {"type": "task.event", "event": "status", "data": payload, "html": row}
        push([
            (task_group(task.id), {"type": "task.event", "event": "status", "data": payload, "html": html}),
            (user_tasks_group(task.owner_id), row_event),
            (STAFF_TASKS_GROUP, row_event),
        ])  # fmt: skip
    alerts.on_task_status(task)
    from tasks_app import callbacks

    callbacks.on_status_changed(task, previous)


def log_line(task_id, line) -> None:
    html = render_to_string("tasks_app/partials/_log_line.html", {"line": line, "oob": True})
    data = {"id": line.id, "level": line.level, "message": line.message, "created_at": line.created_at.isoformat()}
    push([(task_group(task_id), {"type": "task.event", "event": "log", "data": data, "html": html})])


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
    push([(task_group(task.id), {"type": "task.event", "event": "progress", "data": data, "html": html})])
