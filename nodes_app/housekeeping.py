"""One housekeeping pass: expire leases, reap silent nodes, re-send lost wake-ups, prune old rows;
then ``housekeeping_done`` (queue-depth alerts subscribe to it).

A pass is bounded in work and in time whatever the backlog: every step reads only the head of
an index (a ``LIMIT``ed query), has a row limit, and stops when the pass has used
``HOUSEKEEPING_PASS_BUDGET_S``; what is left is picked up by the next pass. The steps run in
order of urgency — fail-over first, retention last — so a backlog of old rows never delays a
fail-over. The launcher runs passes in a thread of their own (``nodes_app.launcher``), so even a
slow database never delays restarting a dead worker.
"""

import time

from django.conf import settings
from django.db import close_old_connections

from nodes_app.services import mark_stale_node
from nodes_app.signals import housekeeping_done
from tasks_app import inputs
from tasks_app.leases import expire_leases
from tasks_app.reconciler import requeue_lost_messages
from tasks_app.retention import prune_rows

MAX_NODES_REAPED = 50


def housekeeping_pass(now=None, budget_s: float | None = None) -> dict:
    """Run one bounded pass; returns what each step did (counts)."""
    close_old_connections()
    budget_s = settings.HOUSEKEEPING_PASS_BUDGET_S if budget_s is None else budget_s
    deadline = time.monotonic() + budget_s
    leases_expired = expire_leases(now, deadline=deadline)
    reaped = 0
    while reaped < MAX_NODES_REAPED and time.monotonic() < deadline and mark_stale_node(now):
        reaped += 1
    requeued = requeue_lost_messages(now, deadline=deadline)
    pruned = 0
    if inputs.server_url():  # a node on another machine: keep its input cache bounded
        pruned = len(inputs.prune_cache(settings.NODE_CACHE_MAX_BYTES))
    summary = {"leases_expired": leases_expired, "nodes_reaped": reaped, "wakeups_resent": requeued,
               "cache_files_pruned": pruned, **prune_rows(now, deadline=deadline)}  # fmt: skip
    housekeeping_done.send_robust(sender=None, summary=summary)  # subscribers: queue-depth alerts
    return summary
