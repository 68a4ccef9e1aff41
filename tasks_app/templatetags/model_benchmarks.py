"""``{% model_benchmarks model user %}``: a model's benchmark runs so far, for the model page;
``{% model_speed model %}``: its measured speed per task type and device.

The model page lives in models_app, a layer below the task core (DESIGN.md rule 10), so it
cannot import benchmark code; the core offers this tag instead and the template loads it by
name. Each run shows its structure set, state, headline numbers and speed per device
(median atom-steps/s of its tasks on that device), linked to the run's report.
"""

from django import template

from tasks_app import eta
from tasks_app.benchmarks.collect import build_report
from tasks_app.benchmarks.report import speed_by_device
from tasks_app.models import BenchmarkRun

register = template.Library()
MAX_RUNS = 20


@register.inclusion_tag("tasks_app/partials/_model_benchmarks.html")
def model_benchmarks(model, user):
    runs = (
        BenchmarkRun.objects.visible_to(user)
        .filter(model=model)
        .select_related("model", "structure_set", "owner")
        .order_by("-created_at")[:MAX_RUNS]
    )
    entries = []
    for run in runs:
        report = build_report(run)
        entries.append(
            {
                "run": run,
                "state": report["run"]["state"],
                "summary": report["summary"],
                "items": report["summary_items"],
                "speed": speed_by_device(report["rows"]),
            }
        )
    return {"entries": entries, "model": model}


@register.inclusion_tag("tasks_app/partials/_model_speed.html")
def model_speed(model):
    """Measured speed per task type and device, from every user's completed tasks (aggregates
    only: no task, structure or owner is shown)."""
    return {"rows": eta.speed_table(model), "model": model}
