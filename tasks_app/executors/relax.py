"""Relaxation shared by every task that optimises a structure (MOFSimBench common/optimization).

Optimizer and cell filter are chosen by name; each step is checked for an exploded system and
reported; frames go to an ASE trajectory tagged with ``stage``. Unlike the original harness there
is no wall-clock guard: a slow model on a large cell is slow, not silently dropped.
"""

import numpy as np
from ase import optimize
from ase.filters import ExpCellFilter, FrechetCellFilter, StrainFilter, UnitCellFilter

from mofsim_site.executors import ExecutorError
from tasks_app.executors.base import check_energy

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
            frame = atoms.copy()
            frame.calc = atoms.calc
            frame.info.update({"stage": stage, "step": opt.nsteps})
            trajectory.write(frame)
        if report is not None:
            report.progress(
                step_offset + opt.nsteps,
                total_steps or steps,
                stage=stage,
                energy=energy,
                fmax=fmax_now,
                volume=float(atoms.get_volume()) if atoms.pbc.all() else None,
            )

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
