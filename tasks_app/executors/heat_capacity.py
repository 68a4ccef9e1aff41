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

Three entries share the stages and the result builder (``_phonons``): ``run`` relaxes through the
ASE calculator (the reference path) and evaluates the displaced cells one at a time or, with the
batched engine, in packs (``forces_together``); ``relax_together`` does both stages for several
tasks in shared passes (their relaxations in lockstep, then all their displaced cells in shared
packs; ``tasks_app.group_run``) and ``run_from_pass`` builds each task's result from its share,
so a task that shared a pass reports what it would have alone.
"""

from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
from ase.io import Trajectory, write

from mofsim_site.executors import ExecutorError
from tasks_app.executors.base import check_energy
from tasks_app.executors.engines import SpeedMeter, choose_engine
from tasks_app.executors.relax import Share, open_shares, relax, relax_shares
from tasks_app.executors.warnings import attach as attach_warnings

R_J_PER_MOL_K = 8.314462618
RELAX = {"optimizer": "BFGS", "cell_filter": "FrechetCellFilter"}  # the full relaxation before the phonons


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
    atoms = atoms.copy()
    atoms.calc = calculator
    _log_start(atoms, report)
    with Trajectory(report.workdir / "trajectory.traj", "w") as traj:
        relaxed = relax(atoms, **RELAX, fmax=params["relax_fmax"], steps=params["relax_steps"], report=report,
                        trajectory=traj, stage="relax")  # fmt: skip
    phonon, cells = displace(atoms, params, report)
    engine = choose_engine(calculator, params, report)
    meter = SpeedMeter(engine, calculator)
    if engine is None:
        forces = _forces_one_at_a_time(cells, calculator, report, meter)
    else:
        share = Share(report, None, meter)
        (forces,) = forces_together(engine, [(share, cells)], report.check)
        share.raise_if_stopped()
    return _phonons(phonon, forces, relaxed, meter.record(), params, report)


@dataclass
class Displaced:
    """One task's share of ``relax_together``: its relaxation, phonopy object and forces, or why it stopped."""

    share: Share
    atoms: object
    relaxed: dict | None = None
    phonon: object = None
    forces: list | None = None


def relax_together(engine, jobs, check) -> list[Displaced]:
    """The heat capacities of ``jobs`` (``(atoms, params, report)``; relax fmax and steps equal) in
    shared passes: all relaxations (BFGS + FrechetCellFilter) in lockstep, then every task's
    displaced cells in shared packs — supercell and displacement may differ, their cells are just
    more structures in the packs. A task that fails or is stopped drops out alone."""
    params = jobs[0][1]
    with ExitStack() as stack:
        for atoms, _params, report in jobs:
            _log_start(atoms, report)
        shares, structures = open_shares(stack, engine, jobs), [atoms.copy() for atoms, _p, _r in jobs]
        relaxed = relax_shares(engine, shares, structures, **RELAX, fmax=params["relax_fmax"],
                               steps=params["relax_steps"], stage="relax",
                               totals=[p["relax_steps"] for _a, p, _r in jobs], check=check)  # fmt: skip
    out, running = [], []
    for share, atoms, summary, (_atoms, job_params, report) in zip(shares, structures, relaxed, jobs, strict=True):
        item = Displaced(share, atoms, summary)
        out.append(item)
        if summary is None:
            continue
        displaced = share.run(lambda atoms=atoms, p=job_params, r=report: displace(atoms, p, r))
        if displaced is not None:
            item.phonon, cells = displaced
            running.append((item, cells))
    if running:
        forces = forces_together(engine, [(item.share, cells) for item, cells in running], check)
        for (item, _cells), mine in zip(running, forces, strict=True):
            item.forces = mine
    return out


def run_from_pass(atoms, calculator, params, report, *, displaced: Displaced) -> dict:
    """The task's result from its share of ``relax_together`` (``calculator`` unused: the pass is done)."""
    displaced.share.raise_if_stopped()
    return _phonons(displaced.phonon, displaced.forces, displaced.relaxed, displaced.share.meter.record(), params,
                    report)  # fmt: skip


def _log_start(atoms, report) -> None:
    report.log(f"heat capacity of {atoms.get_chemical_formula()} ({len(atoms)} atoms): relax, then phonopy")


def displace(atoms, params, report):
    """The relaxed structure (saved as relaxed.cif) as a phonopy object and its displaced cells."""
    from phonopy import Phonopy

    write(report.workdir / "relaxed.cif", atoms)
    phonon = Phonopy(_phonopy_atoms(atoms), supercell_matrix=np.diag(params["supercell"]))
    phonon.generate_displacements(distance=params["displacement_a"])
    cells = phonon.supercells_with_displacements
    report.log(f"{len(cells)} displaced cells of {len(phonon.supercell)} atoms")
    return phonon, cells


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


def forces_together(engine, jobs, check) -> list[list]:
    """The displaced cells of every job (``(share, cells)``) in packs of the engine's batch size,
    one progress point per pack for each job in it. A cell that fails stops its job
    (``share.stopped``); a stopped job's remaining cells leave the queue."""
    queue = [(j, k) for j, (_share, cells) in enumerate(jobs) for k in range(len(cells))]
    forces: list[list] = [[] for _ in jobs]
    chunk = max(1, engine.max_batch)
    while queue:
        queue = [(j, k) for j, k in queue if jobs[j][0].stopped is None]
        pack, queue = queue[:chunk], queue[chunk:]
        if not pack:
            break
        displaced = [_ase_atoms(jobs[j][1][k]) for j, k in pack]
        for (j, k), atoms, outcome in zip(pack, displaced, engine.evaluate(displaced, check=check), strict=True):
            share = jobs[j][0]
            share.meter.add(len(atoms))
            share.run(lambda outcome=outcome, k=k: _checked(outcome, f" in displaced cell {k + 1}"))
            if share.stopped is None:
                forces[j].append(outcome.forces)
        for j in sorted({j for j, _k in pack}):
            share, n, total = jobs[j][0], len(forces[j]), len(jobs[j][1])
            share.run(lambda share=share, n=n, total=total: share.report.progress(n, total, stage="phonons",
                                                                                displaced_cells=n))  # fmt: skip
    return forces


def _checked(outcome, where: str) -> None:
    if not outcome.ok:
        raise ExecutorError(f"System exploded{where}: {outcome.error}")
    check_energy(outcome.energy, where)


def _phonons(phonon, forces, relaxed, engine_record: dict, params, report) -> dict:
    """Force constants, mesh and thermal properties from the displaced cells' forces, whichever path computed them."""
    phonon.forces = np.array(forces)
    phonon.produce_force_constants()
    phonon.save(report.workdir / "phonopy.yaml", settings={"force_constants": True})
    phonon.run_mesh(params["mesh_length"])
    mesh = phonon.get_mesh_dict()
    phonon.run_thermal_properties(t_min=0, t_max=1000, t_step=10)
    thermal = phonon.get_thermal_properties_dict()
    result = summarize(phonon, mesh, thermal, relaxed, len(forces), params, report)
    result["engine"] = engine_record
    return result


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
