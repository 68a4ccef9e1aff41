"""Bulk modulus, MOFSimBench protocol (shared/MOFSIMBENCH.md §2.3).

Full relaxation (LBFGS + FrechetCellFilter), then an E(V) scan: ``npoints`` volumes linearly
spaced over (1 ± eps)·V0, each made by scaling the cell with fractional coordinates kept and
relaxed at fixed cell with FIRE; the final energy of each point is used whether or not it
converged (as in the benchmark; non-converged points are listed). Fit:
``ase.eos.EquationOfState(..., eos="birchmurnaghan")``. The fit is flagged unstable — the
paper excludes such structures — when the EOS minimum lies more than 1 % from the relaxed volume.
"""

import numpy as np
from ase.eos import EquationOfState
from ase.io import Trajectory, write
from ase.units import GPa

from models_app.batched.relax import relax_many
from mofsim_site.executors import ExecutorError
from tasks_app.executors.base import check_energy
from tasks_app.executors.engines import SpeedMeter, choose_engine
from tasks_app.executors.relax import OPTIMIZERS, relax
from tasks_app.executors.warnings import attach as attach_warnings

UNSTABLE_V0_DEVIATION = 0.01  # paper: fit excluded when |V0(EOS)/V0(opt) − 1| > 1 %


def volume_grid(v0: float, eps: float, npoints: int) -> np.ndarray:
    return np.linspace((1 - eps) * v0, (1 + eps) * v0, npoints)


def run(atoms, calculator, params, report) -> dict:
    atoms = atoms.copy()
    atoms.calc = calculator
    npoints = params["npoints"]
    total = params["relax_steps"] + npoints * params["point_steps"]
    report.log(f"bulk modulus of {atoms.get_chemical_formula()} ({len(atoms)} atoms): relax, then {npoints} volumes")
    with Trajectory(report.workdir / "trajectory.traj", "w") as traj:
        relaxed = relax(atoms, optimizer="LBFGS", cell_filter="FrechetCellFilter", fmax=params["relax_fmax"],
                        steps=params["relax_steps"], report=report, trajectory=traj, stage="relax",
                        total_steps=total)  # fmt: skip
        write(report.workdir / "relaxed.cif", atoms)
        v_opt = atoms.get_volume()
        reference = atoms.copy()
        strained = []
        for volume in volume_grid(v_opt, params["eps"], npoints):
            cell = reference.copy()
            cell.set_cell(reference.cell * (volume / v_opt) ** (1 / 3), scale_atoms=True)
            strained.append(cell)
        engine = choose_engine(calculator, params, report)
        meter = SpeedMeter(engine, calculator)
        if engine is None:
            outcomes = [_relax_point(cell, i, calculator, params, report, traj, total, meter)
                        for i, cell in enumerate(strained)]  # fmt: skip
        else:
            outcomes = _relax_points_batched(strained, engine, params, report, traj, total, meter)
        points = []
        for cell, outcome in zip(strained, outcomes, strict=True):
            points.append(
                {
                    "volume_a3": float(cell.get_volume()),
                    "energy_ev": outcome["final_energy_ev"],
                    "converged": outcome["converged"],
                    "steps": outcome["steps"],
                }  # fmt: skip
            )
            report.log(f"V = {points[-1]['volume_a3']:.2f} Å³  E = {points[-1]['energy_ev']:.6f} eV")
    result = {
        "n_atoms": len(atoms),
        "relax": relaxed,
        "relaxed_volume_a3": float(v_opt),
        "points": points,
        "all_points_converged": all(p["converged"] for p in points),
        **fit_eos([p["volume_a3"] for p in points], [p["energy_ev"] for p in points], v_opt),
        "engine": meter.record(),
    }
    reference_b0 = (params.get("reference") or {}).get("dft_b0_gpa")
    if reference_b0 and result["b0_gpa"] is not None:
        result["dft_b0_gpa"] = reference_b0
        result["b0_error_gpa"] = result["b0_gpa"] - reference_b0
    report.log(
        f"B0 = {result['b0_gpa']} GPa"
        + (" (UNSTABLE fit: EOS minimum > 1 % from V_opt)" if result["unstable"] else ""),
        level="WARNING" if result["unstable"] else "INFO",
    )
    return attach_warnings("bulk_modulus", result, params, report)


def _relax_point(cell, i, calculator, params, report, traj, total, meter) -> dict:
    """The reference path: one strained cell at a time, ASE FIRE at fixed cell."""
    cell.calc = calculator
    outcome = relax(cell, optimizer="FIRE", cell_filter=None, fmax=params["point_fmax"], steps=params["point_steps"],
                    report=report, trajectory=traj, stage=f"eos_{i}",
                    step_offset=params["relax_steps"] + i * params["point_steps"], total_steps=total)  # fmt: skip
    meter.add(len(cell), outcome["steps"] + 1)
    return outcome


def _relax_points_batched(strained, engine, params, report, traj, total, meter) -> list[dict]:
    """All strained cells relaxed together: ASE FIRE per cell, their force calls in one batch per round."""
    done = [0]

    def observe(i, atoms, nsteps, energy, fmax_now):
        meter.add(len(atoms))
        done[0] += 1
        frame = atoms.copy()
        frame.calc = atoms.calc
        frame.info.update({"stage": f"eos_{i}", "step": nsteps})
        traj.write(frame)
        report.progress(params["relax_steps"] + done[0], total, stage=f"eos_{i}", energy=energy, fmax=fmax_now,
                        volume=float(atoms.get_volume()))  # fmt: skip

    summaries = relax_many(engine, strained, optimizer_cls=OPTIMIZERS["FIRE"], fmax=params["point_fmax"],
                           steps=params["point_steps"], guard=check_energy, check=report.check,
                           observe=observe)  # fmt: skip
    for i, summary in enumerate(summaries):
        if summary["error"]:
            raise ExecutorError(f"E(V) point {i}: {summary['error']}")
    return summaries


def fit_eos(volumes, energies, v_opt: float) -> dict:
    """Birch–Murnaghan fit; on failure B0 is None (the benchmark stores ``B=None``)."""
    eos = EquationOfState(volumes, energies, eos="birchmurnaghan")
    try:
        v0, e0, b = eos.fit(warn=False)
    except (RuntimeError, ValueError) as exc:
        return {"b0_gpa": None, "v0_a3": None, "e0_ev": None, "fit_error": str(exc), "unstable": True}
    residuals = np.asarray(energies) - eos.func(np.asarray(volumes), *eos.eos_parameters)
    deviation = v0 / v_opt - 1.0
    return {
        "b0_gpa": float(b / GPa),
        "v0_a3": float(v0),
        "e0_ev": float(e0),
        "fit_rms_residual_ev": float(np.sqrt(np.mean(residuals**2))),
        "v0_deviation_from_relaxed_pct": float(100.0 * deviation),
        "unstable": bool(abs(deviation) > UNSTABLE_V0_DEVIATION or not np.isfinite(b) or b <= 0),
    }
