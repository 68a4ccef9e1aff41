"""One housekeeping pass: reap silent nodes (failing their tasks over), re-send lost wake-ups."""

from django.conf import settings
from django.db import close_old_connections

from nodes_app import inputs
from nodes_app.services import mark_stale_node, requeue_lost_messages


def housekeeping_pass(now=None) -> dict:
    close_old_connections()
    reaped = 0
    while mark_stale_node(now):
        reaped += 1
    requeued = requeue_lost_messages(now)
    from alerts_app.services import check_queue_depth

    check_queue_depth()
    pruned = 0
    if inputs.server_url():  # a node on another machine: keep its input cache bounded
        pruned = len(inputs.prune_cache(settings.NODE_CACHE_MAX_BYTES))
    return {"nodes_reaped": reaped, "wakeups_resent": requeued, "cache_files_pruned": pruned}
