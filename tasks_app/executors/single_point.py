"""Single-point energy, forces and stress.

Two entries share one result builder (``_result``), so the numbers a task reports do not depend on
the path: ``run`` computes through the ASE calculator (the reference path); ``run_from_outcome``
takes a structure's ``Outcome`` from a batched pass that served several tasks at once
(``tasks_app.group_run``) and does the same checks, files, progress and log as ``run``.
"""

import numpy as np
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from mofsim_site.executors import ExecutorError
from tasks_app.executors.base import check_energy


def wants_stress(atoms, params) -> bool:
    return bool(params.get("compute_stress", True) and atoms.pbc.all())


def run(atoms, calculator, params, report) -> dict:
    atoms = atoms.copy()
    atoms.calc = calculator
    report.progress(0, 1)
    energy = float(atoms.get_potential_energy())
    check_energy(energy)
    forces = atoms.get_forces()
    stress = atoms.get_stress(voigt=True) if wants_stress(atoms, params) else None
    return _result(atoms, energy, forces, stress, report)


def run_from_outcome(atoms, calculator, params, report, *, outcome) -> dict:
    """The task's share of a batched pass: ``outcome`` (``models_app.batched.Outcome``) holds its numbers.

    ``calculator`` is unused (the pass is done); the signature is the executor contract's."""
    report.progress(0, 1)
    if not outcome.ok:
        raise ExecutorError(f"the model could not evaluate this structure: {outcome.error}")
    check_energy(outcome.energy)
    atoms = atoms.copy()
    stress = np.array(outcome.stress) if wants_stress(atoms, params) else None
    results = {"energy": outcome.energy, "forces": outcome.forces}
    if stress is not None:
        results["stress"] = stress
    atoms.calc = SinglePointCalculator(atoms, **results)  # structure.extxyz carries them, as on the ASE path
    return _result(atoms, outcome.energy, np.array(outcome.forces), stress, report)


def _result(atoms, energy: float, forces, stress, report) -> dict:
    result = {
        "energy_ev": energy,
        "energy_per_atom_ev": energy / len(atoms),
        "forces_ev_per_a": forces.tolist(),
        "max_force_ev_per_a": float(np.linalg.norm(forces, axis=1).max()) if len(atoms) else 0.0,
        "n_atoms": len(atoms),
    }
    if stress is not None:
        result["stress_ev_per_a3"] = stress.tolist()
        result["pressure_gpa"] = float(-stress[:3].mean() * 160.21766208)
    # The format named, not guessed from the file name: guessing tried ~100 name patterns per task
    # (issue 12); the bytes are the same (tests/executors/test_single_point_file.py).
    write(report.workdir / "structure.extxyz", atoms, format="extxyz")
    report.progress(1, 1, energy=energy, fmax=result["max_force_ev_per_a"])
    report.log(f"E = {energy:.6f} eV, max |F| = {result['max_force_ev_per_a']:.4f} eV/Å")
    return result
