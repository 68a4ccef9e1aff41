from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from nodes_app.models import WorkerNode
from tasks_app.choices import TaskStatus
from tasks_app.models import Task


@login_required
def node_list(request):
    nodes = WorkerNode.objects.order_by("name")
    running = {t.node_id: t for t in Task.objects.filter(status=TaskStatus.RUNNING, node__isnull=False)}
    queue_depth = Task.objects.filter(status=TaskStatus.QUEUED).count()
    return render(request, "nodes_app/node_list.html", {"nodes": nodes, "running": running, "queue_depth": queue_depth})
