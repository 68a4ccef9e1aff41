"""``GET /api/v1/tasks/{id}/logs/stream``: a task's log as server-sent events (issue 14).

For scripts and ``curl -N`` where a websocket is awkward. Each stored log line is one event
(``id:`` = the line id, ``event: log``, ``data:`` the line as JSON); when the task is terminal a
final ``event: status`` is sent and the stream ends. A client that reconnects with
``Last-Event-ID`` (browsers' ``EventSource`` do it themselves) or ``?after=<id>`` gets only newer
lines, so nothing is lost or repeated.

Why an *async* view that polls the database: daphne serves ASGI, and Django buffers a
synchronous streaming iterator completely before sending it under ASGI, so a sync generator
would send nothing until the task ends. Polling the rows (every ``SSE_POLL_S``) rather than
listening to the channel layer keeps one source of truth — log lines are written in batches by
the worker, fenced by its lease, and only committed rows are streamed — and works the same on
every backend. Each stream lives at most ``SSE_MAX_SECONDS``; the client resumes from the last id.
Auth is the API's (JWT, personal token, session), visibility that of the task detail view.
"""

import asyncio
import json
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import JsonResponse, StreamingHttpResponse
from rest_framework.request import Request
from rest_framework.settings import api_settings

from tasks_app.api.access import visible_tasks
from tasks_app.choices import TERMINAL
from tasks_app.models import Task, TaskLogLine

BATCH = 500
KEEPALIVE_S = 15.0


def _error(request, code: str, message: str, status: int, details=None) -> JsonResponse:
    body = {"code": code, "message": message, "details": details or {}}
    return JsonResponse({**body, "request_id": getattr(request, "request_id", None)}, status=status)


def _authenticate(request):
    """The API's authenticators, as DRF would run them; returns the user or None."""
    drf_request = Request(request, authenticators=[cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES])
    try:
        user = drf_request.user
    except Exception:  # noqa: BLE001 - an invalid/expired credential is a 401 like elsewhere
        return None
    return user if user is not None and user.is_authenticated else None


def _visible_task(user, pk):
    return visible_tasks(user).filter(pk=pk).values("pk", "status").first()


def _event(event: str, data: dict, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _stream(task_id, after: int):
    deadline = time.monotonic() + settings.SSE_MAX_SECONDS
    last_sent = time.monotonic()
    yield f"retry: {int(settings.SSE_POLL_S * 4000)}\n\n"
    while True:
        # Status first, lines second: the final lines commit with (or before) the terminal
        # status, so once the status read says terminal, the lines read after it are complete.
        task = await Task.objects.filter(pk=task_id).values("status", "error").afirst()
        while True:
            lines = [
                line
                async for line in TaskLogLine.objects.filter(task_id=task_id, id__gt=after)
                .order_by("id")
                .values("id", "created_at", "level", "source", "message")[:BATCH]
            ]
            for line in lines:
                after = line["id"]
                yield _event("log", {**line, "created_at": line["created_at"].isoformat()}, line["id"])
            if lines:
                last_sent = time.monotonic()
            if len(lines) < BATCH:
                break
        if task is None or task["status"] in TERMINAL:
            status = task["status"] if task else "DELETED"
            yield _event("status", {"task_id": str(task_id), "status": status, "error": task["error"] if task else ""})
            return
        if time.monotonic() > deadline:
            yield ": stream lifetime reached; reconnect with Last-Event-ID\n\n"
            return
        if time.monotonic() - last_sent > KEEPALIVE_S:
            yield ": keep-alive\n\n"  # proxies close idle connections
            last_sent = time.monotonic()
        await asyncio.sleep(settings.SSE_POLL_S)


async def task_log_stream(request, pk):
    user = await sync_to_async(_authenticate)(request)
    if user is None:
        return _error(request, "not_authenticated", "Authentication credentials were not provided or are invalid.", 401)
    task = await sync_to_async(_visible_task)(user, pk)
    if task is None:
        return _error(request, "not_found", "Not found.", 404)
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    if not raw.isdigit():
        field = "Last-Event-ID" if request.headers.get("Last-Event-ID") else "after"
        return _error(request, "invalid", f"{field}: must be a log line id", 400, {field: ["must be a log line id"]})
    response = StreamingHttpResponse(_stream(task["pk"], int(raw)), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response
