"""Benchmark pages: run list, new-run form, live report (HTMX polling), comparison.

The report page polls ``_benchmark_live.html`` every few seconds; once every task is terminal
the fragment comes back with status 286 and HTMX stops polling. Plots are inline SVG drawn on
the server (``svg``), so they refresh with the fragment and need no JavaScript library.
"""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from mofsim_site.htmx import HTMX_STOP_POLLING, is_partial
from mofsim_site.tags import TagError, clean_tag, tagged
from tasks_app.benchmarks import collect, table
from tasks_app.benchmarks.forms import BenchmarkForm
from tasks_app.benchmarks.panels import LEGENDS, structure_panels
from tasks_app.benchmarks.services import (
    ComparisonError,
    annotated_runs,
    comparison,
    parse_run_ids,
    save_notes,
    visible_runs,
)
from tasks_app.benchmarks.svg import report_plots
from tasks_app.forms import NotesForm

POLL_SECONDS = 3


def _safe_plots(named_rows) -> list[dict]:
    # The SVG markup is built from numbers and escaped text in ``svg``; nothing user-typed is raw.
    return [{"title": p["title"], "svg": mark_safe(p["svg"])} for p in report_plots(named_rows)]  # noqa: S308


def _safe_panels(kind, rows, results) -> list[dict]:
    # As for the plots: ``svgplot`` escapes every text it draws.
    return [{**p, "svg": mark_safe(p["svg"])} for p in structure_panels(kind, rows, results)]  # noqa: S308


def report_context(run) -> dict:
    data = collect.build_report(run)
    columns = data["_columns"]
    panels = _safe_panels(run.kind, data["rows"], data["_results"])
    return {
        "run": run,
        "params_json": json.dumps(run.params, sort_keys=True),
        "report": data,
        "columns": columns,
        "table_rows": [(row, table.format_row(row, columns)) for row in data["rows"]],
        "plots": _safe_plots([(run.model.name, data["rows"])]),
        "panels": panels,
        "panel_legend": LEGENDS.get(run.kind, []) if panels else [],
        "finished": data["summary"]["all_finished"],
        "poll_seconds": POLL_SECONDS,
    }


@login_required
def benchmark_list(request):
    """Runs, newest first; ``?tag=`` keeps those carrying that tag (a malformed tag is a 400)."""
    qs = annotated_runs(request.user).order_by("-created_at")
    tag = request.GET.get("tag", "").strip()
    if tag:
        try:
            tag = clean_tag(tag)
        except TagError as exc:
            messages.error(request, f"Tag filter: {exc}")
            return render(request, "tasks_app/benchmark_list.html", {"page": [], "tag": tag}, status=400)
        qs = tagged(qs, tag)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "tasks_app/benchmark_list.html", {"page": page, "tag": tag})


@login_required
def benchmark_create(request):
    initial = {"structure_set": "essential", "kind": "optimization"}
    form = BenchmarkForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        run = form.submit()
        if run is not None:
            messages.success(request, f"Benchmark run with {run.tasks.count()} task(s) queued.")
            return redirect("tasks_app:benchmark_detail", pk=run.pk)
    return render(request, "tasks_app/benchmark_create.html", {"form": form})


@login_required
@require_POST
def benchmark_estimate(request):
    """Fragment: the form's errors, or how long the run would take (nothing is created)."""
    form = BenchmarkForm(request.POST, user=request.user)
    estimate = form.estimate() if form.is_valid() else None
    return render(request, "tasks_app/partials/_benchmark_estimate.html", {"form": form, "estimate": estimate})


@login_required
def benchmark_detail(request, pk):
    run = get_object_or_404(visible_runs(request.user), pk=pk)
    context = report_context(run)
    if is_partial(request):
        response = render(request, "tasks_app/partials/_benchmark_live.html", context)
        if context["finished"]:
            response.status_code = HTMX_STOP_POLLING
        return response
    context["notes_form"] = NotesForm(initial={"notes": run.notes, "tags": ", ".join(run.tags or [])})
    return render(request, "tasks_app/benchmark_detail.html", context)


def _speed_cell(value, n: int, ratio) -> str:
    """A cell such as "1234 atoms·steps/s (5 tasks) · 1.80×" (the ratio only on a shared device)."""
    if value is None:
        return "—"
    text = f"{value:.0f} atoms·steps/s ({n} task{'' if n == 1 else 's'})"
    return text + (f" · {ratio:.2f}×" if ratio is not None else "")


@login_required
@require_POST
def benchmark_notes(request, pk):
    """Save the owner's notes and tags on a run (htmx swaps the section); the visibility rule of
    the run page applies, so someone else's run is a 404."""
    run = get_object_or_404(visible_runs(request.user), pk=pk)
    form = NotesForm(request.POST)
    saved = form.is_valid()
    if saved:
        save_notes(run, notes=form.cleaned_data["notes"], tags=form.cleaned_data["tags"])
    context = {"run": run, "notes_form": form, "saved": saved}
    return render(request, "tasks_app/partials/_benchmark_notes.html", context, status=200 if saved else 400)


@login_required
def benchmark_compare(request):
    raw = ",".join(request.GET.getlist("runs"))
    try:
        data = comparison(request.user, parse_run_ids(raw))
    except ComparisonError as exc:
        messages.error(request, f"Cannot compare: {exc}")
        return redirect("tasks_app:benchmark_list")
    reports = data["_reports"]
    summaries = [table.summary_items(r["summary"]) for r in reports]
    labels = [label for label, _ in summaries[0]]
    for items in summaries[1:]:
        labels += [label for label, _ in items if label not in labels]
    summary_table = [(label, [dict(items).get(label, "—") for items in summaries]) for label in labels]
    metric_column = next((c for c in table.OPTIONAL + table.BASE if c.key == data["metric"]), None)
    fmt = metric_column.fmt if metric_column else ""
    structures = [
        {
            **s,
            "cells": [table.format_value(v, fmt) for v in s["values"]],
            "reference_text": table.format_value(s["reference"], fmt),
        }
        for s in data["structures"]
    ]
    speed_rows = [
        {
            "device": d["device"],
            "cells": [_speed_cell(v, n, r) for v, n, r in zip(d["values"], d["n"], d["ratios"], strict=True)],
        }
        for d in data["speed"]["devices"]
    ]
    context = {
        "data": data,
        "runs": data["runs"],
        "speed_rows": speed_rows,
        "summary_table": summary_table,
        "structures": structures,
        "metric_label": metric_column.label if metric_column else data["metric"],
        "plots": _safe_plots([(f"{r['run']['model']} ({r['run']['id'][:8]})", r["rows"]) for r in reports]),
    }
    return render(request, "tasks_app/benchmark_compare.html", context)
