"""Template filters for showing task results to chemists.

A result dict mixes headline numbers (energies, volume change) with bulky nested data
(provenance, per-atom arrays). Pages show the per-type view (labels, units, warnings, charts)
and keep the raw JSON behind a ``<details>``; both the full page and the websocket/poll
fragments use these tags, so the result looks the same however it arrived.
"""

import json

from django import template
from django.utils.safestring import mark_safe

from tasks_app.results.present import headline, present

register = template.Library()


@register.simple_tag
def result_view(task) -> dict:
    """The per-type view of ``task.result`` (``tasks_app.results.present``), charts marked safe.

    Reads the task's metric points (one query) for the charts that plot the run itself.
    """
    if not isinstance(task.result, dict):
        return {}
    points = list(task.metric_points.order_by("step", "id").values("step", "data")) if task.result else []
    view = present(task.kind, task.result, task.params or {}, points)
    # The markup comes from ``mofsim_site.svgplot``, which escapes every text it draws.
    view["charts"] = [{**c, "svg": mark_safe(c["svg"])} for c in view.get("charts", [])]  # noqa: S308
    return view


@register.filter
def result_headline(task) -> str:
    """One line for a list of tasks: the type's first headline numbers, "⚠ n" when it has warnings."""
    return headline(task.kind, task.result) if isinstance(task.result, dict) and task.result else ""


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@register.filter
def compact_json(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@register.filter
def short_id(pk) -> str:
    return str(pk)[:8]
