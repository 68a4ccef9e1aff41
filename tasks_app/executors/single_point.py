"""Single-point energy, forces and stress."""

import numpy as np
from ase.io import write

from tasks_app.executors.base import check_energy


def run(atoms, calculator, params, report) -> dict:
    atoms = atoms.copy()
    atoms.calc = calculator
    report.progress(0, 1)
    energy = float(atoms.get_potential_energy())
    check_energy(energy)
    forces = atoms.get_forces()
    result = {
        "energy_ev": energy,
        "energy_per_atom_ev": energy / len(atoms),
        "forces_ev_per_a": forces.tolist(),
        "max_force_ev_per_a": float(np.linalg.norm(forces, axis=1).max()) if len(atoms) else 0.0,
        "n_atoms": len(atoms),
    }
    if params.get("compute_stress", True) and atoms.pbc.all():
        stress = atoms.get_stress(voigt=True)
        result["stress_ev_per_a3"] = stress.tolist()
        result["pressure_gpa"] = float(-stress[:3].mean() * 160.21766208)
    write(report.workdir / "structure.extxyz", atoms)
    report.progress(1, 1, energy=energy, fmax=result["max_force_ev_per_a"])
    report.log(f"E = {energy:.6f} eV, max |F| = {result['max_force_ev_per_a']:.4f} eV/Å")
    return result
