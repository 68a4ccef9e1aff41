"""Re-sending wake-ups the broker lost (DESIGN.md rule 1: the row is the truth).

A wake-up can be lost — a Redis restart without persistence, a send that failed after commit.
The broker is asked how many wake-ups it still holds; only when that is fewer than the QUEUED
rows are the missing ones re-sent (oldest wake-up first, at most ``limit`` a pass), and only for
tasks whose last wake-up is older than TASK_REQUEUE_AFTER_S. An extra wake-up is harmless (the
claim decides what runs); a missing one would leave a task waiting with idle workers.
"""

import logging
from datetime import timedelta

import dramatiq
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tasks_app.services import send_wakeup
from tasks_app.state import HELD

logger = logging.getLogger(__name__)
QUEUE = "mofsim"


def broker_backlog(queue: str = QUEUE) -> int | None:
    """Wake-ups the broker holds for ``queue`` that no worker is processing; None if unknown."""
    broker = dramatiq.get_broker()
    try:
        client = getattr(broker, "client", None)
        if client is not None and hasattr(broker, "namespace"):  # Redis: queued + unacked messages
            held = client.hlen(f"{broker.namespace}:{queue}.msgs")
            in_flight = Task.objects.filter(status__in=HELD).count()  # ~one unacked message each
            return max(0, held - in_flight)
        if hasattr(broker, "get_queue_message_counts"):  # RabbitMQ: ready messages
            return sum(broker.get_queue_message_counts(queue)[:2])
    except Exception:  # noqa: BLE001 - unknown means "re-send by age", never "fail housekeeping"
        logger.warning("could not read the broker's backlog", exc_info=True)
    return None


def requeue_lost_messages(now=None, limit: int = 500) -> int:
    """One bounded reconciler step; returns how many wake-ups were re-sent."""
    now = now or timezone.now()
    queued = Task.objects.filter(status=TaskStatus.QUEUED)
    backlog = broker_backlog()
    if backlog is not None:
        missing = queued.count() - backlog
        if missing <= 0:
            return 0
        limit = min(limit, missing)
    cutoff = now - timedelta(seconds=settings.TASK_REQUEUE_AFTER_S)
    stale = queued.filter(Q(wakeup_sent_at__lt=cutoff) | Q(wakeup_sent_at__isnull=True, queued_at__lt=cutoff))
    ids = list(stale.order_by(F("wakeup_sent_at").asc(nulls_first=True)).values_list("pk", flat=True)[:limit])
    for pk in ids:
        send_wakeup(pk)
    if ids:
        logger.info("re-sent %d lost wake-up(s)", len(ids))
    return len(ids)
