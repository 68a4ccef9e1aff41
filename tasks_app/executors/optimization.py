"""Structure optimization, MOFSimBench protocol: LBFGS + FrechetCellFilter, fmax 0.001, ≤5000 steps.

Two paths share the result builder (``_result``): ``run`` relaxes one structure through the ASE
calculator (the reference path); ``relax_together`` relaxes the structures of several tasks in
lockstep (``relax.relax_shares`` over ``models_app.batched.relax``: each its own ASE optimizer
and filter, the force calls of a round in one batched pass) and ``run_from_relaxed`` then builds
each task's result, so a task that shared a pass (``tasks_app.group_run``) reports exactly what
it would have alone.

Besides convergence and energies the result compares the relaxed structure with the input
(RMSD, cell changes) and — when ``params["reference"]`` names a DFT-optimised structure and/or
volume — with DFT: RMSD to the DFT structure (only if the atom counts match, as in the
benchmark), volume deviation and whether it is within the paper's ±10 % window.
"""

from contextlib import ExitStack
from dataclasses import dataclass

from ase.io import Trajectory, read, write

from tasks_app.executors.metrics import cell_change, cell_summary, match_atom_order, position_rmsd
from tasks_app.executors.relax import Share, open_shares, relax, relax_shares
from tasks_app.executors.warnings import attach as attach_warnings

DFT_VOLUME_WINDOW_PCT = 10.0  # paper metric: share of structures within ±10 % of the DFT volume


def run(atoms, calculator, params, report) -> dict:
    initial = atoms.copy()
    atoms = atoms.copy()
    atoms.calc = calculator
    _log_start(atoms, params, report)
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
    return _result(initial, atoms, outcome, params, report)


@dataclass
class Relaxed:
    """One task's share of ``relax_together``: its relaxed structure and summary, or why it stopped."""

    initial: object
    atoms: object
    share: Share
    summary: dict | None  # None when ``share.stopped`` says why


def relax_together(engine, jobs, check) -> list[Relaxed]:
    """Relax the structures of ``jobs`` (``(atoms, params, report)``; optimizer, cell filter, fmax
    and steps equal) in lockstep. Each job gets its own trajectory, progress and log; one that
    explodes or whose report stops it ends alone, the others go on."""
    params = jobs[0][1]
    initial = [atoms.copy() for atoms, _params, _report in jobs]
    structures = [atoms.copy() for atoms, _params, _report in jobs]
    for atoms, job_params, report in jobs:
        _log_start(atoms, job_params, report)
    with ExitStack() as stack:
        shares = open_shares(stack, engine, jobs)
        summaries = relax_shares(engine, shares, structures, optimizer=params["optimizer"],
                                 cell_filter=params["cell_filter"], fmax=params["fmax"], steps=params["steps"],
                                 stage="opt", totals=[params["steps"]] * len(jobs), check=check)  # fmt: skip
    return [Relaxed(*parts) for parts in zip(initial, structures, shares, summaries, strict=True)]


def run_from_relaxed(atoms, calculator, params, report, *, relaxed: Relaxed) -> dict:
    """The task's result from its share of ``relax_together`` (``calculator`` unused: the relaxation is done)."""
    relaxed.share.raise_if_stopped()
    assert relaxed.summary is not None
    return _result(relaxed.initial, relaxed.atoms, relaxed.summary, params, report)


def _log_start(atoms, params, report) -> None:
    report.log(
        f"relaxing {atoms.get_chemical_formula()} ({len(atoms)} atoms): {params['optimizer']} + "
        f"{params['cell_filter'] or 'fixed cell'}, fmax {params['fmax']}, ≤{params['steps']} steps"
    )


def _result(initial, atoms, outcome: dict, params, report) -> dict:
    write(report.workdir / "final.cif", atoms)
    before, after = cell_summary(initial), cell_summary(atoms)
    result = {
        **outcome,
        "n_atoms": len(atoms),
        "initial": before,
        "final": after,
        **cell_change(before, after),
        "rmsd_to_input_a": position_rmsd(initial, atoms),
    }
    reference = params.get("reference") or {}
    if reference:
        result["dft"] = compare_with_dft(initial, atoms, reference, report)
    report.log(
        f"{'converged' if outcome['converged'] else 'NOT converged'} after {outcome['steps']} steps; "
        f"E = {outcome['final_energy_ev']:.4f} eV; ΔV = {result['volume_change_pct']:+.2f} %; "
        f"RMSD to input {result['rmsd_to_input_a']:.4f} Å",
        level="INFO" if outcome["converged"] else "WARNING",
    )
    return attach_warnings("optimization", result, params, report)


def compare_with_dft(initial, relaxed, reference: dict, report) -> dict:
    """Relaxed (and input) structure vs the DFT-optimised reference."""
    out: dict = {"reference": reference}
    dft_volume = reference.get("dft_volume")
    path = reference.get("dft_structure")
    if path:
        dft = read(path)
        dft_cell = cell_summary(dft)
        out["structure"] = dft_cell
        out["final_vs_dft"] = cell_change(dft_cell, cell_summary(relaxed))
        if len(dft) == len(relaxed):
            # Match on the input: the relaxed structure keeps its atom order.
            dft, out["dft_atom_matching"] = match_atom_order(dft, initial)
            out["rmsd_final_to_dft_a"] = position_rmsd(dft, relaxed)
            out["rmsd_input_to_dft_a"] = position_rmsd(dft, initial)
        else:
            out["rmsd_final_to_dft_a"] = None
            report.log(f"DFT structure has {len(dft)} atoms, ours {len(relaxed)}: no RMSD to DFT", "WARNING")
        dft_volume = dft_volume or dft_cell["volume_a3"]
    if dft_volume:
        out["dft_volume_a3"] = dft_volume
        out["volume_vs_dft_pct"] = float(100.0 * (relaxed.get_volume() / dft_volume - 1.0))
        out["input_volume_vs_dft_pct"] = float(100.0 * (initial.get_volume() / dft_volume - 1.0))
        out["within_10pct_of_dft_volume"] = bool(abs(out["volume_vs_dft_pct"]) <= DFT_VOLUME_WINDOW_PCT)
        report.log(
            f"volume vs DFT: {out['volume_vs_dft_pct']:+.2f} % (input was {out['input_volume_vs_dft_pct']:+.2f} %)"
        )
    return out
