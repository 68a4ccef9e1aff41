"""The speed record every completed task carries (issue 13), the same keys for every kind.

``provenance`` gets ``steps``, ``step_unit``, ``atom_steps``, ``run_time_s``, ``steps_per_s``
and ``atom_steps_per_s`` from here, next to ``device`` and ``gpu_name`` (``device_info``) and
``wall_time_s`` (the whole attempt, model load included — what an ETA must predict).

A *step* is one force evaluation of one structure, counted where every task type's force calls
pass: the runner's calculator hook (``runner.checked_calculator``) counts the ASE path, and a
batched engine — which evaluates many structures without the ASE calculator — reports its own
count in the result's ``engine`` record (``executors.engines.SpeedMeter``). One optimiser step,
one MD step, one phonon displacement and one E(V) point evaluation are each one step. Kinds
without a calculator (training) count their progress steps (epochs) instead and have no
atoms·steps; ``step_unit`` says which. Speeds are per second of the executor's own run
(``run_time_s``), so a cold model load does not read as a slow model.
"""

from dataclasses import dataclass

FORCE_EVALUATIONS = "force evaluations"
PROGRESS_STEPS = "progress steps"


@dataclass
class ForceCounter:
    """Force evaluations through the ASE calculator and their atoms (one per ``calculate``)."""

    calls: int = 0
    atom_calls: int = 0

    def add(self, atoms) -> None:
        self.calls += 1
        self.atom_calls += len(atoms) if atoms is not None else 0


def batched_counts(result: dict) -> tuple[int, int]:
    """(evaluations, atoms·evaluations) a batched engine reported; (0, 0) for the ASE path,
    whose calls the calculator hook already counted."""
    record = result.get("engine")
    if not isinstance(record, dict) or record.get("engine") != "batched":
        return 0, 0
    return int(record.get("force_evaluations") or 0), int(record.get("atom_steps") or 0)


def speed_record(counter: ForceCounter | None, result: dict, run_s: float, progress_steps: int) -> dict:
    """The provenance keys above for one finished run; ``counter`` is None without a calculator."""
    steps, atom_steps, unit, engine = progress_steps, None, PROGRESS_STEPS, "ase"  # no calculator (training)
    if counter is not None:
        extra_steps, extra_atom_steps = batched_counts(result)
        steps, atom_steps, unit = counter.calls + extra_steps, counter.atom_calls + extra_atom_steps, FORCE_EVALUATIONS
        engine = "batched" if extra_steps else "ase"
    timed = run_s > 0
    return {
        "engine": engine,
        "steps": steps,
        "step_unit": unit,
        "atom_steps": atom_steps,
        "run_time_s": run_s,
        "steps_per_s": steps / run_s if timed and steps else None,
        "atom_steps_per_s": atom_steps / run_s if timed and atom_steps else None,
    }
