"""Relaxation shared by every task that optimises a structure (MOFSimBench common/optimization).

Optimizer and cell filter are chosen by name; each step is checked for an exploded system and
reported; frames go to an ASE trajectory tagged with ``stage``. Unlike the original harness there
is no wall-clock guard: a slow model on a large cell is slow, not silently dropped.

``relax`` is the reference path (one structure, its ASE calculator); ``relax_shares`` relaxes
the structures of several tasks in lockstep (``models_app.batched.relax.relax_many``), each
task keeping its own frames, progress and stop (a ``Share``), and gives each the summary
``relax`` would have returned.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase import optimize
from ase.filters import ExpCellFilter, FrechetCellFilter, StrainFilter, UnitCellFilter
from ase.io import Trajectory

from models_app.batched.relax import relax_many
from mofsim_site.executors import ExecutorError
from tasks_app.executors.base import check_energy
from tasks_app.executors.engines import SpeedMeter

OPTIMIZERS = {
    "LBFGS": optimize.LBFGS,
    "BFGS": optimize.BFGS,
    "FIRE": optimize.FIRE,
    "MDMin": optimize.MDMin,
    "LBFGSLineSearch": optimize.LBFGSLineSearch,
    "BFGSLineSearch": optimize.BFGSLineSearch,
    "GPMin": optimize.GPMin,
}
FILTERS = {
    "FrechetCellFilter": FrechetCellFilter,
    "UnitCellFilter": UnitCellFilter,
    "ExpCellFilter": ExpCellFilter,
    "StrainFilter": StrainFilter,
}


def max_force(atoms) -> float:
    forces = atoms.get_forces()
    return float(np.linalg.norm(forces, axis=1).max()) if len(atoms) else 0.0


def relax(
    atoms,
    *,
    optimizer="LBFGS",
    cell_filter="FrechetCellFilter",
    fmax=0.001,
    steps=5000,
    report=None,
    trajectory=None,
    stage="opt",
    step_offset=0,
    total_steps=None,
) -> dict:
    """Relax ``atoms`` in place (calculator attached). Returns converged flag, steps, energies.

    ``trajectory`` is an open ``ase.io.Trajectory`` (or None); every optimizer step is written
    with ``info["stage"]``. ``step_offset``/``total_steps`` let a multi-stage task report one
    continuous progress bar.
    """
    if optimizer not in OPTIMIZERS:
        raise ExecutorError(f"unknown optimizer {optimizer!r}")
    target = FILTERS[cell_filter](atoms) if cell_filter else atoms
    opt = OPTIMIZERS[optimizer](target, logfile=None)
    first_energy = None
    state = {"n": 0}

    def observe():
        energy = float(atoms.get_potential_energy())
        check_energy(energy, f" at {stage} step {opt.nsteps}")
        nonlocal first_energy
        if first_energy is None:
            first_energy = energy
        fmax_now = float(np.sqrt((target.get_forces() ** 2).sum(axis=1).max())) if len(atoms) else 0.0
        state["n"] = opt.nsteps
        if trajectory is not None:
            write_frame(trajectory, atoms, stage, opt.nsteps)
        if report is not None:
            report_step(report, atoms, step_offset + opt.nsteps, total_steps or steps, stage, energy, fmax_now)

    opt.attach(observe, interval=1)
    converged = bool(opt.run(fmax=fmax, steps=steps))
    final_energy = float(atoms.get_potential_energy())
    check_energy(final_energy, f" at end of {stage}")
    return {
        "converged": converged,
        "steps": int(opt.nsteps),
        "initial_energy_ev": first_energy,
        "final_energy_ev": final_energy,
        "final_fmax_ev_per_a": float(np.sqrt((target.get_forces() ** 2).sum(axis=1).max())) if len(atoms) else 0.0,
    }


def write_frame(trajectory, atoms, stage: str, step: int) -> None:
    """One optimiser step into an open ASE trajectory, tagged with its stage and step."""
    frame = atoms.copy()
    frame.calc = atoms.calc
    frame.info.update({"stage": stage, "step": step})
    trajectory.write(frame)


def report_step(report, atoms, step: int, total: int, stage: str, energy: float, fmax_now: float) -> None:
    report.progress(step, total, stage=stage, energy=energy, fmax=fmax_now,
                    volume=float(atoms.get_volume()) if atoms.pbc.all() else None)  # fmt: skip


@dataclass
class Share:
    """One task's part of a batched pass (its own or one shared by several tasks, ``tasks_app.group_run``).

    ``trajectory`` and ``report`` take its frames, progress and log; ``meter`` (an
    ``engines.SpeedMeter``) counts its force evaluations; ``stopped`` is why it ended early — its
    report stopped it (cancel, lease lost, time limit) or its structure failed. A stopped share
    gets no more work; the others in the pass go on, and the task raises ``stopped`` when its
    result is built."""

    report: Any
    trajectory: Any
    meter: Any
    stopped: BaseException | None = None

    def run(self, step: Callable[[], Any]) -> Any:
        """``step()`` for this task; None, with ``stopped`` set, if it raised (or the task had stopped)."""
        if self.stopped is not None:
            return None
        try:
            return step()
        except Exception as exc:  # noqa: BLE001 - this task's own end; the pass goes on for the others
            self.stopped = exc
            return None

    def raise_if_stopped(self) -> None:
        if self.stopped is not None:
            raise self.stopped


def open_shares(stack, engine, jobs) -> list[Share]:
    """One share per job (``(atoms, params, report)``) of a pass on ``engine``: its
    ``trajectory.traj`` opened on ``stack`` (an ``ExitStack``), its own speed meter."""
    return [Share(report, stack.enter_context(Trajectory(report.workdir / "trajectory.traj", "w")),
                  SpeedMeter(engine, None)) for _atoms, _params, report in jobs]  # fmt: skip


def relax_shares(engine, shares: list[Share], structures, *, optimizer: str, cell_filter: str | None, fmax: float,
                 steps: int, stage: str, totals: list[int], check) -> list[dict | None]:  # fmt: skip
    """Relax ``structures`` (one per share, in place) in lockstep, as ``relax`` would one at a time.

    Each share gets its frames (tagged ``stage``) and progress (out of its ``totals`` entry);
    returns what ``relax`` returns per structure, or None for a share that stopped or failed."""
    if optimizer not in OPTIMIZERS:
        raise ExecutorError(f"unknown optimizer {optimizer!r}")

    def observe(i, atoms, nsteps, energy, fmax_now):
        share = shares[i]
        share.meter.add(len(atoms))

        def step():
            write_frame(share.trajectory, atoms, stage, nsteps)
            report_step(share.report, atoms, nsteps, totals[i], stage, energy, fmax_now)

        share.run(step)
        return share.stopped is None

    summaries = relax_many(engine, structures, optimizer_cls=OPTIMIZERS[optimizer],
                           filter_cls=FILTERS[cell_filter] if cell_filter else None, fmax=fmax, steps=steps,
                           guard=check_energy, check=check, observe=observe)  # fmt: skip
    return [
        share.run(lambda summary=summary: finished(summary, stage))
        for share, summary in zip(shares, summaries, strict=True)
    ]


def finished(summary: dict, stage: str) -> dict:
    """A ``relax_many`` summary as ``relax`` returns it, or its error raised as an ``ExecutorError``."""
    summary = dict(summary)
    error = summary.pop("error")
    if error:
        raise ExecutorError(error if error.startswith("System exploded") else f"relaxation failed: {error}")
    check_energy(summary["final_energy_ev"], f" at end of {stage}")
    return summary
