"""Re-sending wake-ups the broker lost (DESIGN.md rule 1: the row is the truth).

A wake-up can be lost — a Redis restart without persistence, a send that failed after commit.
Wake-ups are interchangeable (the claim query, not the message, decides which task runs), so
what matters is their number: the broker is asked how many it still holds for the queue, and
only the deficit against the QUEUED rows is re-sent — at most ``HOUSEKEEPING_RESEND_MAX`` a pass,
and only while the pass's time budget lasts — for the tasks whose last wake-up is oldest and
older than TASK_REQUEUE_AFTER_S. An extra wake-up is harmless (it finds nothing to claim); a
missing one would leave a task waiting next to idle workers.

Every query is bounded whatever the backlog: the QUEUED count stops at backlog + limit rows
(``COUNT`` over a ``LIMIT``ed subquery), and the stale tasks are the head of the partial index
``task_wakeup_idx`` (QUEUED rows by ``wakeup_sent_at``), read with a ``LIMIT``.
"""

import logging
import time
from datetime import datetime, timedelta

import dramatiq
from django.conf import settings
from django.utils import timezone

from tasks_app.choices import TaskStatus
from tasks_app.models import Task
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


def wakeup_deficit(limit: int) -> int:
    """How many wake-ups to re-send now: QUEUED rows minus what the broker holds, at most ``limit``.

    With an unknown backlog (a broker that cannot be asked) it is ``limit``: re-send by age."""
    backlog = broker_backlog()
    if backlog is None:
        return limit
    queued = Task.objects.filter(status=TaskStatus.QUEUED).order_by()[: backlog + limit].count()
    return max(0, min(limit, queued - backlog))


def stale_task_ids(now: datetime, n: int) -> list:
    """Up to ``n`` QUEUED tasks whose last wake-up is older than TASK_REQUEUE_AFTER_S, oldest first.

    A task never sent one (its process died between commit and send) comes first, if it was
    queued before the cutoff."""
    if n <= 0:
        return []
    cutoff = now - timedelta(seconds=settings.TASK_REQUEUE_AFTER_S)
    queued = Task.objects.filter(status=TaskStatus.QUEUED).order_by()
    ids = list(queued.filter(wakeup_sent_at__isnull=True, queued_at__lt=cutoff).values_list("pk", flat=True)[:n])
    if len(ids) < n:
        oldest = queued.filter(wakeup_sent_at__lt=cutoff).order_by("wakeup_sent_at")
        ids += list(oldest.values_list("pk", flat=True)[: n - len(ids)])
    return ids


def requeue_lost_messages(now: datetime | None = None, limit: int | None = None, deadline: float | None = None) -> int:
    """One bounded reconciler step; returns how many wake-ups were re-sent.

    ``deadline`` (a ``time.monotonic()`` value) ends the sending early; the rest is the next
    pass's deficit. The tasks re-sent get their ``wakeup_sent_at`` stamped in one UPDATE."""
    from tasks_app.tasks import run_next_task  # deferred: the actor module imports the runner

    now = now or timezone.now()
    limit = settings.HOUSEKEEPING_RESEND_MAX if limit is None else limit
    ids = stale_task_ids(now, wakeup_deficit(limit))
    sent = []
    for pk in ids:
        if deadline is not None and time.monotonic() >= deadline:
            break
        try:
            run_next_task.send(str(pk))
        except Exception:  # noqa: BLE001 - the broker is down: the next pass tries again
            logger.warning("could not re-send a wake-up; the next pass will retry", exc_info=True)
            break
        sent.append(pk)
    if sent:
        Task.objects.filter(pk__in=sent).update(wakeup_sent_at=timezone.now())
        logger.info("re-sent %d lost wake-up(s)", len(sent))
    return len(sent)
