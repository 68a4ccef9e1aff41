"""Structure optimization, MOFSimBench protocol: LBFGS + FrechetCellFilter, fmax 0.001, ≤5000 steps."""

from ase.io import Trajectory, write

from tasks_app.executors.relax import relax


def cell_summary(atoms) -> dict:
    lengths_angles = atoms.cell.cellpar()
    return {
        "volume_a3": float(atoms.get_volume()),
        "cell_lengths_a": [float(x) for x in lengths_angles[:3]],
        "cell_angles_deg": [float(x) for x in lengths_angles[3:]],
    }


def run(atoms, calculator, params, report) -> dict:
    initial = atoms.copy()
    atoms = atoms.copy()
    atoms.calc = calculator
    report.log(
        f"relaxing {atoms.get_chemical_formula()} ({len(atoms)} atoms): {params['optimizer']} + "
        f"{params['cell_filter'] or 'fixed cell'}, fmax {params['fmax']}, ≤{params['steps']} steps"
    )
    with Trajectory(report.workdir / "trajectory.traj", "w") as traj:
        outcome = relax(
            atoms,
            optimizer=params["optimizer"],
            cell_filter=params["cell_filter"],
            fmax=params["fmax"],
            steps=params["steps"],
            report=report,
            trajectory=traj,
        )
    write(report.workdir / "final.cif", atoms)
    before, after = cell_summary(initial), cell_summary(atoms)
    result = {
        **outcome,
        "n_atoms": len(atoms),
        "initial": before,
        "final": after,
        "volume_change_pct": 100.0 * (after["volume_a3"] / before["volume_a3"] - 1.0),
    }
    report.log(
        f"{'converged' if outcome['converged'] else 'NOT converged'} after {outcome['steps']} steps; "
        f"E = {outcome['final_energy_ev']:.4f} eV; ΔV = {result['volume_change_pct']:+.2f} %",
        level="INFO" if outcome["converged"] else "WARNING",
    )
    return result
