"""Pushes to the live node pool page (after commit; failures are logged, not raised)."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)
NODES_GROUP = "nodes"


def node_changed(node, previous_status) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    html = render_to_string("nodes_app/partials/_node_row.html", {"node": node, "oob": True})
    data = {
        "name": node.name,
        "status": node.status,
        "previous": previous_status,
        "last_heartbeat": node.last_heartbeat.isoformat() if node.last_heartbeat else None,
    }
    try:
        async_to_sync(layer.group_send)(NODES_GROUP, {"type": "node.event", "data": data, "html": html})
    except Exception:  # noqa: BLE001
        logger.warning("node push failed", exc_info=True)
