"""Which task each node runs now — for the node page and its live pushes alike."""

from nodes_app.models import WorkerNode
from tasks_app.choices import TaskStatus
from tasks_app.models import Task


def attach_current_tasks(nodes) -> list[WorkerNode]:
    """Set ``node.current_task`` (the RUNNING task or None) with one query for all nodes."""
    nodes = list(nodes)
    running = {
        t.node_id: t for t in Task.objects.filter(status=TaskStatus.RUNNING, node__in=nodes).only("kind", "node")
    }
    for node in nodes:
        node.current_task = running.get(node.pk)
    return nodes
