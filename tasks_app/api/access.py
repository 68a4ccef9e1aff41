"""The task lookups every task endpoint shares (a module of its own, so views, callbacks and the
log stream import it without importing each other)."""

from django.shortcuts import get_object_or_404

from tasks_app.models import Task


def visible_tasks(user):
    return Task.objects.visible_to(user).select_related("structure", "model", "node")


def get_task(request, pk) -> Task:
    return get_object_or_404(visible_tasks(request.user), pk=pk)
