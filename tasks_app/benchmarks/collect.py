"""The Django side of a report: a run's tasks → plain records → ``report``/``table`` output.

Kept apart from ``report`` so the metric code never touches the ORM; the queries live here
(one for the tasks with their structures, one for the set order).
"""

from tasks_app.benchmarks import report, table
from tasks_app.models import BenchmarkRun, Task


def ordered_tasks(run: BenchmarkRun) -> list[Task]:
    """The run's tasks in the set's ``--index`` order (creation order for explicit lists)."""
    tasks = list(
        run.tasks.select_related("structure", "node").order_by("created_at", "id").defer("traceback", "progress")
    )
    if run.structure_set_id is None:
        return tasks
    rank = dict(
        run.structure_set.structuresetmember_set.values_list("structure_id", "index"),
    )
    return sorted(tasks, key=lambda t: rank.get(t.structure_id, len(rank)))


def task_record(task: Task) -> dict:
    structure = task.structure
    return {
        "task_id": str(task.pk),
        "structure": structure.name if structure else None,
        "n_atoms": structure.n_atoms if structure else None,
        "input_volume_a3": structure.volume if structure else None,
        "reference": structure.reference if structure else {},
        "status": task.status,
        "result": task.result,
        "error": task.error,
        "wall_time_s": task.wall_time_s,
        "progress_step": task.progress_step,
    }


def run_meta(run: BenchmarkRun) -> dict:
    return {
        "id": str(run.pk),
        "name": str(run),
        "kind": run.kind,
        "model": run.model.name,
        "structure_set": run.structure_set.slug if run.structure_set_id else None,
        "preset": run.preset,
        "params": run.params,
        "notes": run.notes,
        "tags": run.tags,
        "owner": run.owner.get_username(),
        "created_at": run.created_at.isoformat(),
    }


def build_report(run: BenchmarkRun, tasks: list[Task] | None = None) -> dict:
    """Everything a report page, API detail or download needs, as JSON-ready data."""
    tasks = ordered_tasks(run) if tasks is None else tasks
    rows = report.build_rows(task_record(t) for t in tasks)
    summary = report.summarize(rows, run.kind)
    columns = table.columns_for(run.kind, rows)
    return {
        "run": {**run_meta(run), "state": report.run_state(summary)},
        "summary": summary,
        "summary_items": table.summary_items(summary),
        "columns": [{"key": c.key, "label": c.label} for c in columns],
        "rows": rows,
        "_columns": columns,
        # For the per-structure panels (E(V), Cv(T)); kept out of the API body, which has the rows.
        "_results": {str(t.pk): t.result for t in tasks if t.result},
    }


def public(report_data: dict) -> dict:
    """Drop the helper objects that are not JSON (formatting columns) before serialising."""
    return {k: v for k, v in report_data.items() if not k.startswith("_")}
