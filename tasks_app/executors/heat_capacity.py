"""Heat capacity from harmonic phonons, MOFSimBench protocol (shared/MOFSIMBENCH.md §2.4).

Full relaxation (BFGS + FrechetCellFilter), then phonopy finite displacements on the relaxed
cell itself (``supercell_matrix`` = identity by default; phonopy defaults: 0.01 Å, plus/minus
"auto", symmetry-reduced, ``primitive_matrix="auto"``), forces from the same calculator,
``produce_force_constants``, ``run_mesh(mesh_length)`` (a *length* in Å: Γ-centred grid with
N_i = max(1, round(length·|b_i|))) and thermal properties 0–1000 K in 10 K steps.

Units: phonopy's heat capacity is J/K per mole of *primitive* cells; we also give J/K/g (÷ the
primitive cell's mass in g/mol — the per-gram value does not depend on which cell phonopy calls
primitive) and J/K per mole of atoms (÷ atoms in the primitive cell; → 3R at high T).

Imaginary modes: phonopy leaves modes with frequency ≤ 0 out of the thermal sums (as in the
benchmark). We count modes below −``imaginary_threshold_thz`` at Γ (the three acoustic modes are
included: a small negative value there signals broken translational invariance of the force
constants) and the weighted fraction of such modes over the whole mesh.
"""

import numpy as np
from ase.io import Trajectory, write

from mofsim_site.executors import ExecutorError
from tasks_app.executors.base import check_energy
from tasks_app.executors.engines import SpeedMeter, choose_engine
from tasks_app.executors.relax import relax
from tasks_app.executors.warnings import attach as attach_warnings

R_J_PER_MOL_K = 8.314462618


def _phonopy_atoms(atoms):
    from phonopy.structure.atoms import PhonopyAtoms

    return PhonopyAtoms(
        symbols=atoms.get_chemical_symbols(),
        cell=np.array(atoms.cell),
        scaled_positions=atoms.get_scaled_positions(),
        masses=atoms.get_masses(),
    )


def _ase_atoms(cell):
    from ase import Atoms

    return Atoms(symbols=cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions, pbc=True)


def run(atoms, calculator, params, report) -> dict:
    from phonopy import Phonopy

    atoms = atoms.copy()
    atoms.calc = calculator
    report.log(f"heat capacity of {atoms.get_chemical_formula()} ({len(atoms)} atoms): relax, then phonopy")
    with Trajectory(report.workdir / "trajectory.traj", "w") as traj:
        relaxed = relax(atoms, optimizer="BFGS", cell_filter="FrechetCellFilter", fmax=params["relax_fmax"],
                        steps=params["relax_steps"], report=report, trajectory=traj, stage="relax")  # fmt: skip
    write(report.workdir / "relaxed.cif", atoms)

    phonon = Phonopy(_phonopy_atoms(atoms), supercell_matrix=np.diag(params["supercell"]))
    phonon.generate_displacements(distance=params["displacement_a"])
    cells = phonon.supercells_with_displacements
    report.log(f"{len(cells)} displaced cells of {len(phonon.supercell)} atoms")
    engine = choose_engine(calculator, params, report)
    meter = SpeedMeter(engine, calculator)
    if engine is None:
        forces = _forces_one_at_a_time(cells, calculator, report, meter)
    else:
        forces = _forces_batched(cells, engine, report, meter)
    phonon.forces = np.array(forces)
    phonon.produce_force_constants()
    phonon.save(report.workdir / "phonopy.yaml", settings={"force_constants": True})

    phonon.run_mesh(params["mesh_length"])
    mesh = phonon.get_mesh_dict()
    phonon.run_thermal_properties(t_min=0, t_max=1000, t_step=10)
    thermal = phonon.get_thermal_properties_dict()
    result = summarize(phonon, mesh, thermal, relaxed, len(cells), params, report)
    result["engine"] = meter.record()
    return result


def _forces_one_at_a_time(cells, calculator, report, meter) -> list:
    """The reference path: each displaced cell through the ASE calculator."""
    forces = []
    for i, cell in enumerate(cells):
        displaced = _ase_atoms(cell)
        displaced.calc = calculator
        check_energy(float(displaced.get_potential_energy()), f" in displaced cell {i + 1}")
        forces.append(displaced.get_forces().copy())
        meter.add(len(displaced))
        report.progress(i + 1, len(cells), stage="phonons", displaced_cells=i + 1)
    return forces


def _forces_batched(cells, engine, report, meter) -> list:
    """Displaced cells in chunks of the engine's batch size, one progress point per chunk."""
    forces: list = []
    chunk = max(1, engine.max_batch)
    for start in range(0, len(cells), chunk):
        displaced = [_ase_atoms(cell) for cell in cells[start : start + chunk]]
        for k, outcome in enumerate(engine.evaluate(displaced, check=report.check)):
            where = f" in displaced cell {start + k + 1}"
            if not outcome.ok:
                raise ExecutorError(f"System exploded{where}: {outcome.error}")
            check_energy(outcome.energy, where)
            forces.append(outcome.forces)
            meter.add(len(displaced[k]))
        report.progress(len(forces), len(cells), stage="phonons", displaced_cells=len(forces))
    return forces


def summarize(phonon, mesh, thermal, relaxed, n_displacements, params, report) -> dict:
    threshold = params["imaginary_threshold_thz"]
    gamma = np.asarray(phonon.get_frequencies([0.0, 0.0, 0.0]))
    freqs, weights = np.asarray(mesh["frequencies"]), np.asarray(mesh["weights"], dtype=float)
    imaginary_weight = float((weights[:, None] * (freqs < -threshold)).sum() / (weights.sum() * freqs.shape[1]))
    temperatures = np.asarray(thermal["temperatures"])
    cv_mol = np.asarray(thermal["heat_capacity"])
    mass = float(np.sum(phonon.primitive.masses))
    n_prim = len(phonon.primitive)
    i300 = int(np.argmin(np.abs(temperatures - 300.0)))
    np.savez(report.workdir / "thermal_properties.npz", temperatures=temperatures, heat_capacity_mol=cv_mol,
             heat_capacity_g=cv_mol / mass, entropy=thermal["entropy"], free_energy=thermal["free_energy"])  # fmt: skip
    result = {
        "relax": relaxed,
        "n_displacements": n_displacements,
        "supercell": list(params["supercell"]),
        "mesh_length": params["mesh_length"],
        "mesh": [int(n) for n in phonon.mesh.mesh_numbers],
        "primitive_n_atoms": n_prim,
        "primitive_mass_amu": mass,
        "temperatures_k": temperatures.tolist(),
        "cv_j_per_mol_k": cv_mol.tolist(),
        "cv_j_per_g_k": (cv_mol / mass).tolist(),
        "cv_j_per_mol_atoms_k": (cv_mol / n_prim).tolist(),
        "cv300_j_per_g_k": float(cv_mol[i300] / mass),
        "cv300_j_per_mol_k": float(cv_mol[i300]),
        "imaginary_threshold_thz": threshold,
        "n_imaginary_gamma": int((gamma < -threshold).sum()),
        "min_frequency_gamma_thz": float(gamma.min()),
        "imaginary_mode_fraction_mesh": imaginary_weight,
    }
    reference = (params.get("reference") or {}).get("dft_cv300_j_per_g_k")
    if reference:
        result["dft_cv300_j_per_g_k"] = reference
        result["cv300_error_j_per_g_k"] = result["cv300_j_per_g_k"] - reference
    report.log(f"Cv(300 K) = {result['cv300_j_per_g_k']:.4f} J/K/g; {result['n_imaginary_gamma']} imaginary modes at Γ")
    return attach_warnings("heat_capacity", result, params, report)
