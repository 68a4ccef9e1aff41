"""Per-task callbacks: POST a task's chosen state changes to the submitter's URL (issue 14).

Flow: ``tasks_app.events.status_changed`` (after commit) calls ``on_status_changed``; if the task
has a ``TaskCallback`` listening for the new state, the payload is built *now* (a snapshot of
this transition) and handed to the ``deliver_callback`` actor on the **service** queue — never
sent from a web request or a GPU worker. Each attempt writes one ``CallbackDelivery`` row (status
code, error, duration, next retry). A non-2xx answer or a connection error is retried after
``CALLBACK_RETRY_BASE_S`` × 2^(attempt−1), up to ``CALLBACK_MAX_ATTEMPTS`` attempts. The retry is
scheduled here (a delayed message), not by Dramatiq's Retries middleware, so the delivery log
can say when the next attempt happens.

Signing and the SSRF rules are those of alert webhooks (``mofsim_site.webhooks``): the URL is
checked at submit and the resolved address is checked again, and connected to, at each attempt.
Receivers verify ``X-Mofsim-Signature: t=<ts>,v1=HMAC-SHA256(secret, f"{t}.{body}")`` and can
de-duplicate on ``X-Mofsim-Delivery`` (one id per event, the same for its retries).
"""

import logging
import secrets
import time
import uuid
from datetime import timedelta

import dramatiq
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from mofsim_site import webhooks
from tasks_app.choices import TERMINAL
from tasks_app.models import CallbackDelivery, Task, TaskCallback
from tasks_app.signals import task_status_changed

logger = logging.getLogger(__name__)
DEFAULT_EVENTS = [str(s) for s in TERMINAL]
EVENT_HEADER = "X-Mofsim-Event"
DELIVERY_HEADER = "X-Mofsim-Delivery"


def new_secret() -> str:
    return secrets.token_hex(32)


def attach(task: Task, url: str, events: list[str] | None = None, secret: str | None = None) -> TaskCallback:
    """Store the callback of a task being submitted (call inside the submit transaction, so the
    QUEUED event emitted on commit already sees it)."""
    return TaskCallback.objects.create(task=task, url=url, events=list(events or DEFAULT_EVENTS), secret=secret)


def _iso(value):
    return value.isoformat() if value else None


def payload_for(task: Task, previous: str | None) -> dict:
    """The JSON body: what changed, the task's times, and where to fetch the result."""
    site = settings.SITE_URL.rstrip("/")
    return {
        "task_id": str(task.pk),
        "kind": task.kind,
        "status": task.status,
        "previous": previous,
        "error": task.error,
        "created_at": _iso(task.created_at),
        "queued_at": _iso(task.queued_at),
        "started_at": _iso(task.started_at),
        "finished_at": _iso(task.finished_at),
        "task_url": site + reverse("api:task-detail", kwargs={"pk": task.pk}),
        "result_url": site + reverse("api:task-result", kwargs={"pk": task.pk}),
    }


def on_status_changed(task: Task, previous: str | None) -> bool:
    """Queue a delivery if the task's callback listens for its new state. Returns whether it did."""
    if Task.callback.is_cached(task):  # the transition's SELECT (or the submit) already knows it
        callback = getattr(task, "callback", None)
    else:
        callback = TaskCallback.objects.filter(task_id=task.pk).only("events").first()
    if callback is None or task.status not in callback.events:
        return False
    body = {"delivery_id": str(uuid.uuid4()), "event": task.status, **payload_for(task, previous)}
    try:
        deliver_callback.send(str(task.pk), body, 1)
    except Exception:  # noqa: BLE001 - the state change stands; the delivery log shows nothing was sent
        logger.warning("could not queue the %s callback of task %s", task.status, task.pk, exc_info=True)
        return False
    return True


def retry_delay_s(attempt: int) -> float:
    """Delay before attempt ``attempt + 1``: base, 2×base, 4×base, …"""
    return settings.CALLBACK_RETRY_BASE_S * 2 ** (attempt - 1)


def deliver(task_id: str, body: dict, attempt: int) -> CallbackDelivery | None:
    """Make one attempt, record it, and schedule the next one if it failed and attempts remain."""
    callback = TaskCallback.objects.filter(task_id=task_id).first()
    if callback is None:  # the task (and its callback) was deleted meanwhile
        return None
    headers = {EVENT_HEADER: body["event"], DELIVERY_HEADER: body["delivery_id"]}
    status_code, error = None, ""
    started = time.monotonic()
    try:
        status_code = webhooks.post(callback.url, body, callback.secret, extra_headers=headers)
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except webhooks.WebhookError as exc:
        error = str(exc)
    duration_ms = int((time.monotonic() - started) * 1000)
    retry = bool(error) and attempt < settings.CALLBACK_MAX_ATTEMPTS
    delay = retry_delay_s(attempt) if retry else None
    outcome = CallbackDelivery.Outcome
    row = CallbackDelivery.objects.create(
        task_id=task_id, delivery_id=body["delivery_id"], event=body["event"], attempt=attempt,
        outcome=outcome.DELIVERED if not error else (outcome.RETRYING if retry else outcome.FAILED),
        status_code=status_code, error=error[:2000], duration_ms=duration_ms,
        next_retry_at=timezone.now() + timedelta(seconds=delay) if retry else None,
    )  # fmt: skip
    if retry:
        deliver_callback.send_with_options(args=(task_id, body, attempt + 1), delay=int(delay * 1000))
    return row


@dramatiq.actor(queue_name="service", max_retries=0, time_limit=60_000)
def deliver_callback(task_id: str, body: dict, attempt: int) -> None:
    deliver(task_id, body, attempt)


def _on_status(sender, task, previous, **kwargs) -> None:
    on_status_changed(task, previous)


def connect() -> None:
    """Subscribe to the core's status events (called from ``TasksAppConfig.ready``)."""
    task_status_changed.connect(_on_status, dispatch_uid="task-callbacks")
