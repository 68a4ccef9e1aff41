"""Node pool page: every signed-in user can see GPU health; rows update live over ws/nodes/."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from nodes_app.current import attach_current_tasks
from nodes_app.models import WorkerNode
from tasks_app.choices import TaskStatus
from tasks_app.models import Task


@login_required
def node_list(request):
    nodes = attach_current_tasks(WorkerNode.objects.order_by("name"))
    context = {
        "nodes": nodes,
        "running_count": sum(1 for n in nodes if n.current_task),
        "queue_depth": Task.objects.filter(status=TaskStatus.QUEUED).count(),
    }
    return render(request, "nodes_app/node_list.html", context)
