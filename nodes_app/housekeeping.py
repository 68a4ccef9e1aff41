"""One housekeeping pass: expire leases, reap silent nodes, re-send lost wake-ups; then
``housekeeping_done`` (queue-depth alerts subscribe to it).

Every step is bounded (a fixed number of rows a pass), so a pass takes about the same time
whatever the backlog; what is left is picked up by the next pass.
"""

from django.conf import settings
from django.db import close_old_connections

from nodes_app.services import mark_stale_node
from nodes_app.signals import housekeeping_done
from tasks_app import inputs
from tasks_app.leases import expire_leases
from tasks_app.reconciler import requeue_lost_messages

MAX_NODES_REAPED = 50


def housekeeping_pass(now=None) -> dict:
    close_old_connections()
    leases_expired = expire_leases(now)
    reaped = 0
    while reaped < MAX_NODES_REAPED and mark_stale_node(now):
        reaped += 1
    requeued = requeue_lost_messages(now)
    pruned = 0
    if inputs.server_url():  # a node on another machine: keep its input cache bounded
        pruned = len(inputs.prune_cache(settings.NODE_CACHE_MAX_BYTES))
    summary = {"leases_expired": leases_expired, "nodes_reaped": reaped, "wakeups_resent": requeued,
               "cache_files_pruned": pruned}  # fmt: skip
    housekeeping_done.send_robust(sender=None, summary=summary)  # subscribers: queue-depth alerts
    return summary
