"""Any tasks of one kind side by side: the per-type rows of each (``present``) as columns, and
the curves that compare well overlaid (E(V), Cv(T), relaxation energy)."""

from mofsim_site.svgplot import Series, line_svg
from tasks_app.results.charts import birch_murnaghan_curve
from tasks_app.results.present import present

MAX_TASKS = 8


class CompareError(ValueError):
    """The selection cannot be compared (said in words to the user)."""


def compare(tasks: list, points_by_task: dict) -> dict:
    """``{"kind", "columns", "rows": [(label, unit, [values])], "charts"}`` for completed ``tasks``."""
    if len(tasks) < 2:
        raise CompareError("pick at least two completed tasks")
    if len(tasks) > MAX_TASKS:
        raise CompareError(f"compare at most {MAX_TASKS} tasks at once")
    kinds = {t.kind for t in tasks}
    if len(kinds) > 1:
        raise CompareError(f"tasks of one type only; these are {', '.join(sorted(kinds))}")
    kind = kinds.pop()
    views = [present(t.kind, t.result or {}, t.params or {}, points_by_task.get(t.pk, [])) for t in tasks]
    order: list[tuple[str, str]] = []
    values: dict[tuple[str, str], list[str]] = {}
    for i, view in enumerate(views):
        for section in view.get("sections", []):
            for r in section["rows"]:
                key = (r["label"], r["unit"])
                if key not in values:
                    order.append(key)
                    values[key] = ["—"] * len(tasks)
                values[key][i] = r["value"]
    rows = [(label, unit, values[(label, unit)]) for label, unit in order]
    rows.append(("Warnings", "", [str(len(v.get("warnings", []))) for v in views]))
    columns = [
        {"task": t, "label": f"{t.model.name if t.model else '—'} · {t.structure.name if t.structure else '—'}"}
        for t in tasks
    ]
    return {"kind": kind, "columns": columns, "rows": rows, "charts": _overlays(kind, tasks, columns, points_by_task)}


def _overlays(kind, tasks, columns, points_by_task) -> list[dict]:
    series = []
    if kind == "bulk_modulus":
        for t, c in zip(tasks, columns, strict=True):
            pts = (t.result or {}).get("points") or []
            e0 = min((p["energy_ev"] for p in pts), default=0.0)
            curve = [(v, e - e0) for v, e in birch_murnaghan_curve(pts)]
            series.append(Series(c["label"], curve))
        return [
            {
                "id": "compare-eos",
                "title": "E(V) fits (each shifted to its minimum)",
                "svg": line_svg(series, "volume (Å³)", "E − E_min (eV)"),
            }
        ]
    if kind == "heat_capacity":
        for t, c in zip(tasks, columns, strict=True):
            r = t.result or {}
            series.append(
                Series(c["label"], list(zip(r.get("temperatures_k") or [], r.get("cv_j_per_g_k") or [], strict=False)))
            )
        return [{"id": "compare-cv", "title": "Cv(T)", "svg": line_svg(series, "temperature (K)", "Cv (J/(g·K))")}]
    if kind == "optimization":
        for t, c in zip(tasks, columns, strict=True):
            pts = [
                (p["step"], p["data"]["energy"])
                for p in points_by_task.get(t.pk, [])
                if isinstance(p["data"].get("energy"), int | float)
            ]
            series.append(Series(c["label"], pts))
        return [
            {
                "id": "compare-energy",
                "title": "Relaxation energy",
                "svg": line_svg(series, "optimizer step", "energy (eV)"),
            }
        ]
    return []
