"""Everything that happens *after* a task row changed: websocket pushes, then the
``task_status_changed`` signal other apps (alerts, callbacks, …) subscribe to.

Called only from ``transaction.on_commit`` hooks, so listeners never see state the database
does not have. A push that fails (channel layer down) is logged, never raised: the row is the
truth and pages can always re-read it.

Fan-out is bounded (issue 12): a transition renders its fragments once (the task page's live
fragment and the list row, shared by every list group); the task page's group gets it at once,
while the list groups — the owner's and the staff-wide one, which every transition and every
submit would otherwise flood — get coalesced updates: the latest row of each task, at most one
message per group every ``LIST_FLUSH_S``, carrying at most ``LIST_MAX_ROWS`` rows (the newest:
a 1000-task batch does not render 1000 rows; the page's first page holds fewer). New tasks go the
same way, so an open task list shows them as they are submitted. Nothing is rendered for a group
no page has joined (``mofsim_site.push.listened``): a worker running thousands of short tasks
nobody watches renders none of their fragments.
"""

import atexit
import json
import logging
import os
import threading

from django.db import connections
from django.template.loader import render_to_string

from mofsim_site.push import listened, push
from tasks_app.models import Task
from tasks_app.signals import task_status_changed

logger = logging.getLogger(__name__)

STAFF_TASKS_GROUP = "tasks-staff"
LIST_FLUSH_S = 0.4
LIST_MAX_ROWS = 100


def task_group(task_id) -> str:
    return f"task-{task_id}"


def user_tasks_group(user_id) -> str:
    """Task-list pushes go per owner (and to staff), never to everyone."""
    return f"tasks-user-{user_id}"


class ListCoalescer:
    """Per-process buffer of list-row updates: the newest state per (group, task), rendered once
    and sent in one message per group by a timer at most every ``interval`` seconds (a task that
    went ASSIGNED → RUNNING → COMPLETED within it is rendered once, as COMPLETED)."""

    def __init__(self, interval: float):
        self.interval = interval
        self._lock = threading.Lock()
        self._rows: dict[str, dict[str, Task]] = {}
        self._timer: threading.Timer | None = None
        self._pid = os.getpid()

    def add(self, groups: list[str], task: Task) -> None:
        """Queue ``task``'s row (its structure and model already loaded: the timer reads no rows)."""
        with self._lock:
            if self._pid != os.getpid():  # a forked child inherits no timer thread
                self._rows, self._timer, self._pid = {}, None, os.getpid()
            for group in groups:
                self._rows.setdefault(group, {})[str(task.pk)] = task
            if self._timer is None:
                self._timer = threading.Timer(self.interval, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        with self._lock:
            rows, self._rows, self._timer = self._rows, {}, None
        html: dict[str, str] = {}
        messages = []
        open_lists = listened(list(rows))
        try:
            for group, by_task in rows.items():
                if group not in open_lists:
                    continue  # no list page open for this group: nothing to render
                by_task = dict(list(by_task.items())[-LIST_MAX_ROWS:])
                for task_id, task in by_task.items():
                    if task_id not in html:
                        html[task_id] = render_to_string(
                            "tasks_app/partials/_task_row.html", {"task": task, "oob": True}
                        )
                data = {"task_ids": list(by_task)}
                messages.append((group, {"type": "task.event", "event": "rows", "data": data,
                                         "html": "".join(html[t] for t in by_task)}))  # fmt: skip
        except Exception:  # noqa: BLE001 - a list refresh must never break anything
            logger.warning("rendering task list rows failed", exc_info=True)
        finally:
            connections.close_all()  # this timer thread's own, if a template ever read a row
        push(messages)


list_updates = ListCoalescer(LIST_FLUSH_S)
atexit.register(list_updates.flush)  # a command's last updates still go out


def status_changed(task, previous: str, lines=(), push_page: bool = True) -> None:
    """Push the task page's live fragment (status, progress, outcome, the transition's log lines)
    to the task group at once and the list row, coalesced, to the owner's and staff's list
    groups; then tell the subscribers (``tasks_app.signals.task_status_changed``).

    The fragment is rendered only when a page of the task is open (``listened``: a push to an
    empty group goes nowhere). ``push_page`` False: subscribers only — a claim that started at
    once is pushed as RUNNING."""
    if push_page:
        if listened([task_group(task.id)]):
            _push_live(task, previous, lines)
        _queue_row(task)
    _notify(task, previous)


def _push_live(task, previous: str, lines) -> None:
    payload = {"task_id": str(task.id), "status": task.status, "previous": previous}
    try:
        html = render_to_string("tasks_app/partials/_task_live.html", {"task": task, "lines": list(lines)})
    except Exception:  # noqa: BLE001 - rendering must not break the state change either
        logger.warning("rendering the push for task %s failed", task.id, exc_info=True)
    else:
        push([(task_group(task.id), {"type": "task.event", "event": "status", "data": payload, "html": html})])


def _queue_row(task) -> None:
    """Join the coalesced list updates (rendered by the timer only for a list page that is open)."""
    try:
        task.structure, task.model  # noqa: B018 - loaded here (usually cached), not in the timer thread
    except Exception:  # noqa: BLE001 - a list refresh must never break a state change or a submit
        logger.warning("loading the list row of task %s failed", task.id, exc_info=True)
    else:
        list_updates.add([user_tasks_group(task.owner_id), STAFF_TASKS_GROUP], task)


def tasks_created(tasks) -> None:
    """New QUEUED tasks (one submit or a batch): their rows join the coalesced list updates (an
    open list page inserts them), then the subscribers hear."""
    for task in tasks:
        _queue_row(task)
        _notify(task, "PENDING")


def _notify(task, previous: str) -> None:
    for receiver, error in task_status_changed.send_robust(sender=Task, task=task, previous=previous):
        if isinstance(error, Exception):
            logger.warning("task_status_changed receiver %r failed: %r", receiver, error)


def log_lines(task_id, lines) -> None:
    """Push lines written together as one message (one OOB fragment per line)."""
    if not lines or not listened([task_group(task_id)]):
        return
    html = "".join(render_to_string("tasks_app/partials/_log_line.html", {"line": line, "oob": True}) for line in lines)
    data = [
        {"id": line.id, "level": line.level, "message": line.message, "created_at": line.created_at.isoformat()}
        for line in lines
    ]
    push([(task_group(task_id), {"type": "task.event", "event": "log", "data": data, "html": html})])


MAX_PUSHED_POINTS = 300


def _point(p: dict) -> dict:
    return {"step": p["step"], "data": {k: v for k, v in p.items() if k != "step"}}


def progress(task, point: dict | None, batch: list[dict] | None = None) -> None:
    """Push the progress fragment. ``batch`` is every metric point written since the last push
    (the live chart draws them all, not only the latest one per persist interval); more than
    ``MAX_PUSHED_POINTS`` are thinned evenly, the last one always kept."""
    if not listened([task_group(task.id)]):
        return
    point_json = json.dumps(_point(point)) if point else ""
    batch = batch or []
    if len(batch) > MAX_PUSHED_POINTS:
        stride = len(batch) / MAX_PUSHED_POINTS
        batch = [batch[int(i * stride)] for i in range(MAX_PUSHED_POINTS - 1)] + [batch[-1]]
    points_json = json.dumps([_point(p) for p in batch]) if len(batch) > 1 else ""
    html = render_to_string(
        "tasks_app/partials/_progress.html",
        {"task": task, "oob": True, "point_json": point_json, "points_json": points_json},
    )
    data = {
        "step": task.progress_step,
        "total": task.progress_total,
        "metrics": task.progress,
        "point": point,
    }
    push([(task_group(task.id), {"type": "task.event", "event": "progress", "data": data, "html": html})])
