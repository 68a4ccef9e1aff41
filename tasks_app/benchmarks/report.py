"""Benchmark report: per-structure rows and summary metrics against DFT, from plain task records.

Pure functions over dicts (no Django), so the metrics are tested on hand-made results and the
same code serves the API, the pages, the CSV/JSON downloads and ``manage.py enqueue_benchmark``.

Input record (built by ``tasks_app.benchmarks.collect.task_record``)::

    {"task_id", "structure", "n_atoms", "input_volume_a3", "reference": {...}, "status",
     "result": dict | None, "error", "wall_time_s", "progress_step"}

``reference`` is ``Structure.reference``: ``dft_volume`` (Å³), ``dft_b0_gpa``,
``dft_cv300_j_per_g_k``. Result keys read per task type (agreed with the executors; anything
missing is shown as "—" and left out of the metrics, never guessed):

* every kind — ``steps``, ``final_energy_ev`` (single point: ``energy_ev``), ``converged``
  (kinds with a relaxation stage may nest these under ``relax``),
  ``provenance.{wall_time_s, steps, steps_per_s, atom_steps_per_s, device, gpu_name}``;
* optimization — ``final.volume_a3``, ``initial.volume_a3``, ``volume_change_pct`` (vs input);
  ``volume_vs_dft_pct`` and ``rmsd_to_dft_a`` top-level or, as the executor writes them,
  ``dft.volume_vs_dft_pct`` / ``dft.rmsd_final_to_dft_a`` (volume vs DFT is computed from
  ``final.volume_a3`` and the reference when neither is there);
* bulk_modulus — ``b0_gpa``, ``relaxed_volume_a3``, and ``eos_stable`` or its negation
  ``unstable`` (True when the Birch–Murnaghan minimum deviates by more than 1 % from the
  optimised volume: the protocol excludes such fits from B0 MAE/MAPE);
* heat_capacity — ``cv300_j_per_g_k`` (J/K/g at 300 K);
* stability — ``volume_change_pct`` (final vs input cell), ``stable`` (bool; the paper's
  pass/fail rule is not in the benchmark repository, so without it the column shows "—").

DFT references come from ``Structure.reference``; a reference the executor echoed in its
result (``dft_b0_gpa``, ``dft_cv300_j_per_g_k``, ``dft.dft_volume_a3``) is used when the
structure has none. Volume change vs input is computed from the relaxed volume when the result
does not give it.

Decisions (documented because they change the numbers):

* "within ±10 % of the DFT volume" is a share of all structures with a DFT volume whose task
  completed, failed or timed out; a failed or timed-out structure counts as *not* within, as the
  paper counts convergence failures against a model. Structures still queued or running, and
  cancelled ones (a user's decision, not the model's), are not counted.
* B0 MAE/MAPE leave out fits with ``eos_stable`` False and say how many were left out.
* Stability failures = structures reported ``stable: False`` plus tasks that failed (an exploded
  MD is a stability failure).
"""

import math
import statistics

DASH = "—"
FAILED_STATES = ("FAILED", "TIMEOUT")
TERMINAL_STATES = ("COMPLETED", "FAILED", "TIMEOUT", "CANCELLED")
VOLUME_TOLERANCE_PCT = 10.0


def _dig(data, *keys):
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _number(value):
    """A finite float or None (results may hold None/NaN where a quantity was not computed)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def pct_diff(value, reference):
    value, reference = _number(value), _number(reference)
    if value is None or not reference:
        return None
    return 100.0 * (value / reference - 1.0)


def _first(*values):
    return next((v for v in values if v is not None), None)


def _flag(value):
    return value if isinstance(value, bool) else None


def build_row(record: dict) -> dict:
    """One table row for one structure; every value is a number, bool, str or None."""
    result = record.get("result") or {}
    reference = record.get("reference") or {}
    prov = result.get("provenance") or {}
    relax = result.get("relax") or {}  # the relaxation stage of bulk_modulus / heat_capacity
    dft = result.get("dft") or {}  # the optimization executor's comparison with the DFT structure
    input_volume = _number(_first(_dig(result, "initial", "volume_a3"), record.get("input_volume_a3")))
    final_volume = _number(_first(_dig(result, "final", "volume_a3"), result.get("relaxed_volume_a3")))
    dft_volume = _number(_first(reference.get("dft_volume"), dft.get("dft_volume_a3")))
    b0 = _number(result.get("b0_gpa"))
    dft_b0 = _number(_first(reference.get("dft_b0_gpa"), result.get("dft_b0_gpa")))
    cv = _number(result.get("cv300_j_per_g_k"))
    dft_cv = _number(_first(reference.get("dft_cv300_j_per_g_k"), result.get("dft_cv300_j_per_g_k")))
    unstable = _flag(result.get("unstable"))
    eos_stable = _first(_flag(result.get("eos_stable")), None if unstable is None else not unstable)
    return {
        "task_id": record.get("task_id"),
        "structure": record.get("structure"),
        "n_atoms": record.get("n_atoms"),
        "status": record.get("status"),
        "error": record.get("error") or "",
        "converged": _first(_flag(result.get("converged")), _flag(relax.get("converged"))),
        "steps": _first(result.get("steps"), prov.get("steps")),
        "final_energy_ev": _number(
            _first(result.get("final_energy_ev"), result.get("energy_ev"), relax.get("final_energy_ev"))
        ),
        "volume_input_a3": input_volume,
        "volume_final_a3": final_volume,
        "volume_change_pct": _number(_first(result.get("volume_change_pct"), pct_diff(final_volume, input_volume))),
        "dft_volume_a3": dft_volume,
        "volume_vs_dft_pct": _number(
            _first(result.get("volume_vs_dft_pct"), dft.get("volume_vs_dft_pct"), pct_diff(final_volume, dft_volume))
        ),
        "rmsd_to_dft_a": _number(_first(result.get("rmsd_to_dft_a"), dft.get("rmsd_final_to_dft_a"))),
        "b0_gpa": b0,
        "dft_b0_gpa": dft_b0,
        "b0_error_gpa": b0 - dft_b0 if b0 is not None and dft_b0 is not None else None,
        "eos_stable": eos_stable,
        "cv300_j_per_g_k": cv,
        "dft_cv300_j_per_g_k": dft_cv,
        "cv300_error": cv - dft_cv if cv is not None and dft_cv is not None else None,
        "stable": _flag(result.get("stable")),
        "wall_time_s": _number(_first(prov.get("wall_time_s"), record.get("wall_time_s"))),
        "steps_per_s": _number(prov.get("steps_per_s")),
        "atom_steps_per_s": _number(prov.get("atom_steps_per_s")),
        "device": prov.get("gpu_name") or prov.get("device") or None,
    }


def build_rows(records) -> list[dict]:
    return [build_row(r) for r in records]


def _errors_summary(pairs) -> dict | None:
    """MAE, MAPE (%) and RMSE of (predicted, reference) pairs; None when there are none."""
    pairs = [(p, r) for p, r in pairs if p is not None and r is not None]
    if not pairs:
        return None
    errors = [p - r for p, r in pairs]
    with_ref = [(p, r) for p, r in pairs if r]
    return {
        "n": len(pairs),
        "mae": sum(abs(e) for e in errors) / len(errors),
        "mape_pct": (100.0 * sum(abs(p - r) / abs(r) for p, r in with_ref) / len(with_ref)) if with_ref else None,
        "rmse": math.sqrt(sum(e * e for e in errors) / len(errors)),
    }


def volume_summary(rows, kind: str = "") -> dict | None:
    judged = ("COMPLETED", *FAILED_STATES)
    eligible = [r for r in rows if r["dft_volume_a3"] is not None and r["status"] in judged]
    with_value = [r for r in eligible if r["volume_vs_dft_pct"] is not None]
    if not with_value and not (kind == "optimization" and eligible):
        return None
    # Inclusive bound, with slack for float noise (110/100 - 1 is 0.10000000000000009).
    within = [r for r in with_value if abs(r["volume_vs_dft_pct"]) <= VOLUME_TOLERANCE_PCT + 1e-9]
    errors = _errors_summary((r["volume_final_a3"], r["dft_volume_a3"]) for r in with_value)
    return {
        "n": len(eligible),
        "n_missing": len(eligible) - len(with_value),
        "within_10pct": len(within),
        "share_within_10pct": len(within) / len(eligible),
        "mae_pct": sum(abs(r["volume_vs_dft_pct"]) for r in with_value) / len(with_value) if with_value else None,
        "rmse_a3": errors["rmse"] if errors else None,
    }


def bulk_modulus_summary(rows) -> dict | None:
    candidates = [r for r in rows if r["b0_gpa"] is not None and r["dft_b0_gpa"] is not None]
    if not candidates:
        return None
    unstable = [r for r in candidates if r["eos_stable"] is False]
    kept = [r for r in candidates if r["eos_stable"] is not False]
    errors = _errors_summary((r["b0_gpa"], r["dft_b0_gpa"]) for r in kept)
    return {
        "n": len(kept),
        "excluded_unstable": len(unstable),
        "mae_gpa": errors["mae"] if errors else None,
        "mape_pct": errors["mape_pct"] if errors else None,
        "rmse_gpa": errors["rmse"] if errors else None,
    }


def heat_capacity_summary(rows) -> dict | None:
    errors = _errors_summary((r["cv300_j_per_g_k"], r["dft_cv300_j_per_g_k"]) for r in rows)
    if errors is None:
        return None
    return {"n": errors["n"], "mae": errors["mae"], "mape_pct": errors["mape_pct"], "rmse": errors["rmse"]}


def stability_summary(rows, kind: str) -> dict | None:
    judged = [r for r in rows if r["stable"] is not None]
    if not judged and kind != "stability":
        return None
    failed = [r for r in rows if r["status"] in FAILED_STATES]
    if not judged and not failed:
        return None
    unstable = sum(1 for r in judged if r["stable"] is False)
    changes = [abs(r["volume_change_pct"]) for r in judged if r["volume_change_pct"] is not None]
    return {
        "n": len(judged) + len(failed),
        "stable": sum(1 for r in judged if r["stable"] is True),
        "unstable": unstable,
        "failed": len(failed),
        "failures": unstable + len(failed),
        "mean_abs_volume_change_pct": sum(changes) / len(changes) if changes else None,
    }


def speed_summary(rows) -> dict:
    rates = [r["atom_steps_per_s"] for r in rows if r["atom_steps_per_s"] is not None]
    walls = [r["wall_time_s"] for r in rows if r["wall_time_s"] is not None]
    return {
        "median_atom_steps_per_s": statistics.median(rates) if rates else None,
        "total_wall_time_s": sum(walls) if walls else None,
        "devices": sorted({r["device"] for r in rows if r["device"]}),
    }


def speed_by_device(rows) -> list[dict]:
    """Median steps/s and atoms·steps/s of the completed rows, per device (GPU name or "cpu")."""
    by_device: dict[str, list[dict]] = {}
    for row in rows:
        if row.get("device") and row.get("atom_steps_per_s") is not None:
            by_device.setdefault(row["device"], []).append(row)
    out = []
    for device, picked in sorted(by_device.items()):
        steps = [r["steps_per_s"] for r in picked if r.get("steps_per_s") is not None]
        out.append(
            {
                "device": device,
                "median_atom_steps_per_s": statistics.median(r["atom_steps_per_s"] for r in picked),
                "median_steps_per_s": statistics.median(steps) if steps else None,
                "n": len(picked),
            }
        )
    return out


SPEED_NOTE = (
    "Speed is compared only between tasks that ran on the same device (GPU model, or CPU): "
    "a ratio across devices would measure the hardware, not the model. Ratios (×) are to the "
    "first run measured on that device."
)


def compare_speed(runs: list[dict]) -> dict:
    """Per device, each run's median atoms·steps/s and its ratio to the first run that has a
    value on that device; devices only one run used get no ratio."""
    per_run = [{s["device"]: s for s in speed_by_device(entry["rows"])} for entry in runs]
    devices = sorted({d for speeds in per_run for d in speeds})
    table = []
    for device in devices:
        values = [speeds.get(device) for speeds in per_run]
        base = next((v["median_atom_steps_per_s"] for v in values if v is not None), None)
        shared = sum(v is not None for v in values) > 1
        table.append(
            {
                "device": device,
                "values": [None if v is None else v["median_atom_steps_per_s"] for v in values],
                "n": [0 if v is None else v["n"] for v in values],
                "ratios": [
                    v["median_atom_steps_per_s"] / base if (shared and v is not None and base) else None for v in values
                ],
            }
        )
    return {"devices": table, "note": SPEED_NOTE}


def summarize(rows, kind: str = "") -> dict:
    """Counts, DFT comparisons (each ``None`` when the run has no data for it) and speed."""
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    finished = sum(by_status.get(s, 0) for s in TERMINAL_STATES)
    return {
        "total": len(rows),
        "by_status": by_status,
        "finished": finished,
        "all_finished": finished == len(rows),
        "completed": by_status.get("COMPLETED", 0),
        "failed": sum(by_status.get(s, 0) for s in FAILED_STATES),
        "cancelled": by_status.get("CANCELLED", 0),
        "converged": sum(1 for r in rows if r["converged"] is True),
        "not_converged": sum(1 for r in rows if r["converged"] is False),
        "volume": volume_summary(rows, kind),
        "bulk_modulus": bulk_modulus_summary(rows),
        "heat_capacity": heat_capacity_summary(rows),
        "stability": stability_summary(rows, kind),
        "speed": speed_summary(rows),
    }


def run_state(summary: dict) -> str:
    """One word for a run: QUEUED/RUNNING while tasks are active, then COMPLETED/PARTIAL/FAILED."""
    if summary["total"] == 0:
        return "EMPTY"
    if not summary["all_finished"]:
        active = summary["by_status"]
        return "RUNNING" if active.get("RUNNING") or active.get("ASSIGNED") or summary["finished"] else "QUEUED"
    if summary["completed"] == summary["total"]:
        return "COMPLETED"
    return "PARTIAL" if summary["completed"] else "FAILED"


# The per-structure number a comparison puts side by side, and its DFT reference (if any).
COMPARE_METRIC = {
    "optimization": ("volume_vs_dft_pct", None),
    "bulk_modulus": ("b0_gpa", "dft_b0_gpa"),
    "heat_capacity": ("cv300_j_per_g_k", "dft_cv300_j_per_g_k"),
    "stability": ("volume_change_pct", None),
}
DEFAULT_COMPARE_METRIC = ("final_energy_ev", None)


def compare(kind: str, runs: list[dict]) -> dict:
    """Several runs of one task type side by side, matched by structure name.

    ``runs`` is a list of ``{"run": meta, "rows": [...], "summary": {...}}``. Structures appear
    in the first run's order, then any only the later runs have; a run without a structure gets
    ``None`` there (shown as "—").
    """
    metric, ref_key = COMPARE_METRIC.get(kind, DEFAULT_COMPARE_METRIC)
    order: list[str] = []
    for entry in runs:
        for row in entry["rows"]:
            if row["structure"] not in order:
                order.append(row["structure"])
    by_run = [{row["structure"]: row for row in entry["rows"]} for entry in runs]
    structures = []
    for name in order:
        present = [rows.get(name) for rows in by_run]
        any_row = next(r for r in present if r is not None)
        structures.append(
            {
                "structure": name,
                "n_atoms": any_row["n_atoms"],
                "reference": any_row.get(ref_key) if ref_key else None,
                "values": [r.get(metric) if r else None for r in present],
                "statuses": [r["status"] if r else None for r in present],
            }
        )
    return {
        "kind": kind,
        "metric": metric,
        "reference": ref_key,
        "runs": [{**entry["run"], "summary": entry["summary"]} for entry in runs],
        "structures": structures,
        "same_structures": len({frozenset(rows) for rows in by_run}) == 1,
        "speed": compare_speed(runs),
    }
