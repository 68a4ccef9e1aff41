"""Task pages: list, detail (live via websocket, polling fallback), submit form, downloads."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from mofsim_site import executors
from mofsim_site.htmx import HTMX_STOP_POLLING, is_partial
from mofsim_site.tags import TagError, clean_tag, tagged
from tasks_app.archive import artifact_response
from tasks_app.choices import TaskStatus
from tasks_app.forms import NotesForm, TaskSubmitForm
from tasks_app.models import Task, TaskMetricPoint
from tasks_app.param_docs import describe
from tasks_app.results.compare import CompareError, compare
from tasks_app.services import cancel_task, resubmit_task
from tasks_app.state import IllegalTransition
from tasks_app.waiting import wait_reason


@login_required
def task_list(request):
    qs = Task.objects.visible_to(request.user).select_related("structure", "model", "node").order_by("-created_at")
    status = request.GET.get("status", "")
    if status in TaskStatus.values:
        qs = qs.filter(status=status)
    tag, tag_error = request.GET.get("tag", "").strip().lower(), ""
    if tag:
        try:
            qs = tagged(qs, clean_tag(tag))
        except TagError as exc:
            # Said in the table (htmx swaps it as the user types; it would not swap a 400).
            qs, tag_error = qs.none(), str(exc)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {"page": page, "status": status, "tag": tag, "tag_error": tag_error, "statuses": TaskStatus.choices}
    template = "tasks_app/partials/_task_table.html" if is_partial(request) else "tasks_app/task_list.html"
    return render(request, template, context)


@login_required
def task_detail(request, pk):
    """Full page, or (htmx poll, the fallback when the websocket is down) the live fragment with
    log lines newer than ``after``; 286 once terminal so the poll stops itself."""
    task = get_object_or_404(Task.objects.visible_to(request.user), pk=pk)
    if is_partial(request):
        after = request.GET.get("after", "")
        lines = task.log_lines.filter(id__gt=int(after)).order_by("id")[:500] if after.isdigit() else []
        context = {"task": task, "lines": lines, "waiting": wait_reason(task)}
        response = render(request, "tasks_app/partials/_task_live.html", context)
        if task.is_terminal:
            response.status_code = HTMX_STOP_POLLING
        return response
    lines = list(task.log_lines.order_by("-id")[:200])[::-1]
    points = list(task.metric_points.order_by("step", "id").values("step", "data"))
    notes_form = NotesForm(initial={"notes": task.notes, "tags": ", ".join(task.tags or [])})
    context = {"task": task, "lines": lines, "points": points, "waiting": wait_reason(task), "notes_form": notes_form}
    return render(request, "tasks_app/task_detail.html", context)


@login_required
def task_submit(request):
    form = TaskSubmitForm(request.POST or None, user=request.user, initial={"structure": request.GET.get("structure")})
    if request.method == "POST" and form.is_valid():
        task = form.submit()
        messages.success(request, f"Task {str(task.pk)[:8]} queued.")
        return redirect("tasks_app:task_detail", pk=task.pk)
    return render(request, "tasks_app/task_submit.html", {"form": form})


@login_required
@require_POST
def task_notes(request, pk):
    """Save the owner's notes and tags; only those two columns are written (a worker may be
    writing progress to the same row)."""
    task = get_object_or_404(Task.objects.visible_to(request.user), pk=pk)
    form = NotesForm(request.POST)
    saved = form.is_valid()
    if saved:
        Task.objects.filter(pk=task.pk).update(notes=form.cleaned_data["notes"], tags=form.cleaned_data["tags"])
        task.notes, task.tags = form.cleaned_data["notes"], form.cleaned_data["tags"]
    context = {"task": task, "notes_form": form, "saved": saved}
    return render(request, "tasks_app/partials/_task_notes.html", context, status=200 if saved else 400)


@login_required
def task_compare(request):
    """Completed tasks of one kind side by side (``?tasks=<id>&tasks=<id>`` or comma-separated)."""
    wanted = [x.strip() for raw in request.GET.getlist("tasks") for x in raw.split(",") if x.strip()]
    tasks = list(
        Task.objects.visible_to(request.user)
        .filter(pk__in=[x for x in wanted if _is_uuid(x)], status=TaskStatus.COMPLETED)
        .select_related("structure", "model")
        .order_by("created_at")
    )
    try:
        if len(tasks) != len(set(wanted)):
            raise CompareError("some tasks are not yours, not completed, or do not exist")
        points: dict = {}
        for p in (
            TaskMetricPoint.objects.filter(task__in=tasks).order_by("step", "id").values("task_id", "step", "data")
        ):
            points.setdefault(p["task_id"], []).append(p)
        data = compare(tasks, points)
    except CompareError as exc:
        return render(request, "tasks_app/task_compare.html", {"error": str(exc)}, status=400)
    data["charts"] = [{**c, "svg": mark_safe(c["svg"])} for c in data["charts"] if c["svg"]]  # noqa: S308 - svgplot escapes
    return render(request, "tasks_app/task_compare.html", data)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@login_required
def task_param_help(request):
    """Fragment: the chosen type's parameters with their defaults in the chosen preset."""
    kind, preset = request.GET.get("kind", ""), request.GET.get("preset", "quick")
    if kind not in executors.REGISTRY:
        return HttpResponse(status=400, content=f"unknown task type {kind!r}")
    context = {"kind": kind, "label": executors.get(kind).label, "preset": preset, "params": describe(kind)}
    return render(request, "tasks_app/partials/_param_help.html", context)


@login_required
@require_POST
def task_validate(request):
    """Fragment: the form checked as the user types, without submitting anything, and how long
    the task would take (``tasks_app.eta``)."""
    form = TaskSubmitForm(request.POST, user=request.user)
    valid = form.is_valid()
    context = {"form": form, "valid": valid, "params": form.cleaned_data.get("validated_params") if valid else None,
               "estimate": form.estimate() if valid else None}  # fmt: skip
    return render(request, "tasks_app/partials/_form_check.html", context)


@login_required
@require_POST
def task_cancel(request, pk):
    task = get_object_or_404(Task.objects.visible_to(request.user), pk=pk)
    try:
        cancel_task(task, by=request.user.get_username())
        messages.info(request, "Task cancelled.")
    except IllegalTransition as exc:
        messages.error(request, f"Cannot cancel: task is {exc.current}.")
    return _go(request, "tasks_app:task_detail", pk=pk)


@login_required
@require_POST
def task_rerun(request, pk):
    """Submit the same task again (same type, structure, model, parameters, priority) as a new task."""
    try:
        new = resubmit_task(get_object_or_404(Task.objects.visible_to(request.user), pk=pk), request.user)
    except IllegalTransition as exc:  # the model was disabled since: say so, as the API's 409 does
        messages.error(request, f"Cannot run again: {exc}")
        return _go(request, "tasks_app:task_detail", pk=pk)
    messages.success(request, f"Task {str(new.pk)[:8]} queued (a re-run of {str(pk)[:8]}).")
    return _go(request, "tasks_app:task_detail", pk=new.pk)


def _go(request, name, **kwargs):
    """Redirect; for an htmx request as HX-Redirect so the browser navigates."""
    if request.headers.get("HX-Request") == "true":
        return HttpResponse(status=204, headers={"HX-Redirect": reverse(name, kwargs=kwargs)})
    return redirect(name, **kwargs)


@login_required
def artifact_download(request, pk, name):
    task = get_object_or_404(Task.objects.visible_to(request.user), pk=pk)
    return artifact_response(task, name)
