"""Bulk modulus, MOFSimBench protocol (shared/MOFSIMBENCH.md §2.3).

Full relaxation (LBFGS + FrechetCellFilter), then an E(V) scan: ``npoints`` volumes linearly
spaced over (1 ± eps)·V0, each made by scaling the cell with fractional coordinates kept and
relaxed at fixed cell with FIRE; the final energy of each point is used whether or not it
converged (as in the benchmark; non-converged points are listed). Fit:
``ase.eos.EquationOfState(..., eos="birchmurnaghan")``. The fit is flagged unstable — the
paper excludes such structures — when the EOS minimum lies more than 1 % from the relaxed volume.

Three entries share the stages and the result builder (``_result``): ``run`` relaxes through the
ASE calculator (the reference path) and then relaxes the strained cells one at a time or, with the
batched engine, together (``relax_points``); ``relax_together`` does both stages for several tasks
in one lockstep pass (their initial relaxations together, then all their strained cells together;
``tasks_app.group_run``) and ``run_from_pass`` builds each task's result from its share, so a task
that shared a pass reports what it would have alone.
"""

from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
from ase.eos import EquationOfState
from ase.io import Trajectory, write
from ase.units import GPa

from models_app.batched.relax import relax_many
from mofsim_site.executors import ExecutorError
from tasks_app.executors.base import check_energy
from tasks_app.executors.engines import SpeedMeter, choose_engine
from tasks_app.executors.relax import (
    OPTIMIZERS,
    Share,
    open_shares,
    relax,
    relax_shares,
    report_step,
    write_frame,
)
from tasks_app.executors.warnings import attach as attach_warnings

UNSTABLE_V0_DEVIATION = 0.01  # paper: fit excluded when |V0(EOS)/V0(opt) − 1| > 1 %
RELAX = {"optimizer": "LBFGS", "cell_filter": "FrechetCellFilter"}  # the full relaxation before the scan


def volume_grid(v0: float, eps: float, npoints: int) -> np.ndarray:
    return np.linspace((1 - eps) * v0, (1 + eps) * v0, npoints)


def total_steps(params) -> int:
    """The length of the task's one progress bar: relaxation, then every point's steps."""
    return params["relax_steps"] + params["npoints"] * params["point_steps"]


def run(atoms, calculator, params, report) -> dict:
    atoms = atoms.copy()
    atoms.calc = calculator
    _log_start(atoms, params, report)
    with Trajectory(report.workdir / "trajectory.traj", "w") as traj:
        relaxed = relax(atoms, **RELAX, fmax=params["relax_fmax"], steps=params["relax_steps"], report=report,
                        trajectory=traj, stage="relax", total_steps=total_steps(params))  # fmt: skip
        strained = strain(atoms, params, report)
        engine = choose_engine(calculator, params, report)
        meter = SpeedMeter(engine, calculator)
        if engine is None:
            outcomes = [_relax_point(cell, i, calculator, params, report, traj, meter)
                        for i, cell in enumerate(strained)]  # fmt: skip
        else:
            share = Share(report, traj, meter)
            (outcomes,) = relax_points(engine, [(share, strained, params)], report.check)
            share.raise_if_stopped()
    return _result(atoms, relaxed, strained, outcomes, meter.record(), params, report)


@dataclass
class Scanned:
    """One task's share of ``relax_together``: its relaxed structure and its E(V) points, or why it stopped."""

    share: Share
    atoms: object
    relaxed: dict | None = None
    strained: list | None = None
    points: list | None = None


def relax_together(engine, jobs, check) -> list[Scanned]:
    """The bulk moduli of ``jobs`` (``(atoms, params, report)``; relax and point fmax and steps
    equal) in one lockstep pass: all initial relaxations (LBFGS + FrechetCellFilter) together,
    then every task's strained cells (FIRE, fixed cell) together — ``npoints`` and ``eps`` may
    differ, their cells are just more structures in the pass. A task that fails or is stopped
    drops out alone; the others go on."""
    params = jobs[0][1]
    with ExitStack() as stack:
        for atoms, job_params, report in jobs:
            _log_start(atoms, job_params, report)
        shares = open_shares(stack, engine, jobs)
        scans = [Scanned(share, atoms.copy()) for share, (atoms, _p, _r) in zip(shares, jobs, strict=True)]
        relaxed = relax_shares(engine, shares, [scan.atoms for scan in scans], **RELAX,
                               fmax=params["relax_fmax"], steps=params["relax_steps"], stage="relax",
                               totals=[total_steps(p) for _a, p, _r in jobs], check=check)  # fmt: skip
        for scan, summary, (_atoms, job_params, report) in zip(scans, relaxed, jobs, strict=True):
            scan.relaxed = summary
            if summary is not None:
                scan.strained = scan.share.run(lambda scan=scan, p=job_params, r=report: strain(scan.atoms, p, r))
        running = [(scan, job_params) for scan, (_a, job_params, _r) in zip(scans, jobs, strict=True)
                   if scan.share.stopped is None]  # fmt: skip
        if running:
            points = relax_points(engine, [(scan.share, scan.strained, p) for scan, p in running], check)
            for (scan, _p), outcomes in zip(running, points, strict=True):
                scan.points = outcomes
    return scans


def run_from_pass(atoms, calculator, params, report, *, scanned: Scanned) -> dict:
    """The task's result from its share of ``relax_together`` (``calculator`` unused: the pass is done)."""
    scanned.share.raise_if_stopped()
    return _result(scanned.atoms, scanned.relaxed, scanned.strained, scanned.points, scanned.share.meter.record(),
                   params, report)  # fmt: skip


def _log_start(atoms, params, report) -> None:
    report.log(f"bulk modulus of {atoms.get_chemical_formula()} ({len(atoms)} atoms): relax, then "
               f"{params['npoints']} volumes")  # fmt: skip


def strain(atoms, params, report) -> list:
    """The relaxed structure (saved as relaxed.cif) scaled to every volume of the grid, fractional coordinates kept."""
    write(report.workdir / "relaxed.cif", atoms)
    v_opt = atoms.get_volume()
    strained = []
    for volume in volume_grid(v_opt, params["eps"], params["npoints"]):
        cell = atoms.copy()
        cell.set_cell(atoms.cell * (volume / v_opt) ** (1 / 3), scale_atoms=True)
        strained.append(cell)
    return strained


def _relax_point(cell, i, calculator, params, report, traj, meter) -> dict:
    """The reference path: one strained cell at a time, ASE FIRE at fixed cell."""
    cell.calc = calculator
    outcome = relax(cell, optimizer="FIRE", cell_filter=None, fmax=params["point_fmax"], steps=params["point_steps"],
                    report=report, trajectory=traj, stage=f"eos_{i}",
                    step_offset=params["relax_steps"] + i * params["point_steps"],
                    total_steps=total_steps(params))  # fmt: skip
    meter.add(len(cell), outcome["steps"] + 1)
    return outcome


def relax_points(engine, jobs, check) -> list[list[dict]]:
    """The strained cells of every job (``(share, cells, params)``; point fmax and steps equal)
    relaxed together: ASE FIRE per cell, their force calls in one batch per round. Returns each
    job's point summaries; a point that fails stops its job (``share.stopped``)."""
    cells, owners = [], []
    for j, (_share, strained, _params) in enumerate(jobs):
        cells.extend(strained)
        owners.extend((j, k) for k in range(len(strained)))
    done = [0] * len(jobs)

    def observe(i, atoms, nsteps, energy, fmax_now):
        j, k = owners[i]
        share, _strained, params = jobs[j]
        if share.stopped is not None:
            return False
        share.meter.add(len(atoms))
        done[j] += 1

        def step():
            write_frame(share.trajectory, atoms, f"eos_{k}", nsteps)
            report_step(share.report, atoms, params["relax_steps"] + done[j], total_steps(params), f"eos_{k}", energy,
                        fmax_now)  # fmt: skip

        share.run(step)
        return share.stopped is None

    params = jobs[0][2]
    summaries = relax_many(engine, cells, optimizer_cls=OPTIMIZERS["FIRE"], fmax=params["point_fmax"],
                           steps=params["point_steps"], guard=check_energy, check=check,
                           observe=observe)  # fmt: skip
    out: list[list[dict]] = [[] for _ in jobs]
    for (j, k), summary in zip(owners, summaries, strict=True):
        if summary["error"] and jobs[j][0].stopped is None:
            jobs[j][0].stopped = ExecutorError(f"E(V) point {k}: {summary['error']}")
        out[j].append(summary)
    return out


def _result(atoms, relaxed: dict, strained: list, outcomes: list[dict], engine_record: dict, params, report) -> dict:
    """The task's result from its relaxation and its points, whichever path computed them."""
    v_opt = atoms.get_volume()
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
        "engine": engine_record,
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
