"""Pushes to the live node pool page (after commit; failures are logged, not raised).

The pushed HTML is the same row partial the page renders, marked ``hx-swap-oob`` so the htmx
ws extension replaces the row by id (app.js prepends rows of nodes the page has not seen yet).
"""

import logging

from django.template.loader import render_to_string

from mofsim_site.push import push
from nodes_app.current import attach_current_tasks

logger = logging.getLogger(__name__)
NODES_GROUP = "nodes"


def node_changed(node, previous_status) -> None:
    try:
        (node,) = attach_current_tasks([node])
        html = render_to_string("nodes_app/partials/_node_row.html", {"node": node, "oob": True})
        data = {
            "name": node.name,
            "status": node.status,
            "previous": previous_status,
            "last_heartbeat": node.last_heartbeat.isoformat() if node.last_heartbeat else None,
        }
    except Exception:  # noqa: BLE001 - rendering must never break a heartbeat
        logger.warning("rendering the node push failed", exc_info=True)
        return
    push([(NODES_GROUP, {"type": "node.event", "data": data, "html": html})])
