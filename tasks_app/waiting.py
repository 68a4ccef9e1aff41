"""Why a QUEUED task is still waiting — said on the task page and in the API.

A plain "QUEUED" for minutes tells a user nothing. After TASK_WAIT_EXPLAIN_AFTER_S the task says
what holds it: its model is disabled, no worker node is online, no online node can load its
model's family (nodes report their families at boot: ``models_app.families``), every online
worker is busy (and how many tasks are ahead of it), or — with idle workers — that its wake-up
is being re-sent.
"""

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tasks_app.state import HELD

S = TaskStatus


def wait_reason(task: Task, now=None) -> str | None:
    """A sentence for a task that has waited longer than TASK_WAIT_EXPLAIN_AFTER_S; else None."""
    if task.status != S.QUEUED or task.queued_at is None:
        return None
    now = now or timezone.now()
    if now - task.queued_at < timedelta(seconds=settings.TASK_WAIT_EXPLAIN_AFTER_S):
        return None
    model = task.model
    if model is not None and not model.is_usable:
        return f"model {model.name} is disabled or not validated; an operator must enable it"
    WorkerNode = apps.get_model("nodes_app", "WorkerNode")  # nodes are a layer above the task core
    online = WorkerNode.objects.filter(status="online", enabled=True)
    n_online = online.count()
    if n_online == 0:
        return "no worker node is online; it starts when one comes up"
    if model is not None:
        capable = [node.pk for node in online.only("pk", "families") if model.family in (node.families or [])]
        if not capable:
            return (f"no online worker node can run {model.get_family_display()} models (capability "
                    f"'{model.family}'); it starts when a node whose environment has that family comes up")  # fmt: skip
        online = online.filter(pk__in=capable)
        n_online = len(capable)
    busy = Task.objects.filter(status__in=HELD, node__in=online).values("node").distinct().count()
    ahead = (
        Task.objects.filter(status=S.QUEUED)
        .filter(Q(priority__gt=task.priority) | Q(priority=task.priority, queued_at__lt=task.queued_at))
        .count()
    )
    if busy >= n_online:
        return f"all {n_online} online worker(s) are busy; {ahead} queued task(s) ahead of it"
    return (f"{n_online - busy} worker(s) idle, {ahead} task(s) ahead; its wake-up is re-sent by housekeeping "
            "if the broker lost it")  # fmt: skip
