"""One housekeeping pass: reap silent nodes (failing their tasks over), re-send lost wake-ups."""

from django.db import close_old_connections

from nodes_app.services import mark_stale_node, requeue_lost_messages


def housekeeping_pass(now=None) -> dict:
    close_old_connections()
    reaped = 0
    while mark_stale_node(now):
        reaped += 1
    requeued = requeue_lost_messages(now)
    from alerts_app.services import check_queue_depth

    check_queue_depth()
    return {"nodes_reaped": reaped, "wakeups_resent": requeued}
