"""MD stability, MOFSimBench protocol (shared/MOFSIMBENCH.md §2.2), three variants.

* ``ambient``: fixed-cell LBFGS opt → Langevin NVT 300 K (friction 0.01 fs⁻¹) → IsotropicMTKNPT
  300 K, 1 bar.
* ``temperature_ramp``: opt → NVT 300 K (friction 0.002 fs⁻¹) → one NPT stage per ramp
  temperature (300 … 1000 K), velocities re-drawn (MB, seed 0) at each stage.
* ``copper``: opt → NVT 300 K → NPT 300 K → 400 K → 300 K (velocities continue) → final
  fixed-cell opt.

All stages act on one Atoms object and write to one trajectory (``info["stage"]``,
``info["step"]``). Metrics follow the benchmark's analysis: V/V0 of the last frame against frame
0 (the input), RMSD of the last frame to frame 0, and metal coordination (CrystalNN, see
``metrics``) at frame 0, after the opt stage and at the last frame.

Two paths give the same numbers: ``run`` through the ASE calculator (``engine: "ase"``, or a
model without a batched path), and ``run_together`` — every stage of one or several tasks in
lockstep with their force calls batched (``engine: "batched"``; several tasks when a worker
claims them together, ``executors.grouped``); ``run_from_staged`` builds each task's result.
"""

from contextlib import ExitStack
from dataclasses import dataclass, field

from ase.io import Trajectory, write

from models_app.batched.relax import relax_many
from mofsim_site.executors import ExecutorError
from tasks_app.executors.base import check_energy
from tasks_app.executors.engines import SpeedMeter, choose_engine
from tasks_app.executors.md import MDRun, run_md, run_md_together
from tasks_app.executors.metrics import cell_summary, metal_coordination, position_rmsd
from tasks_app.executors.relax import OPTIMIZERS, relax
from tasks_app.executors.warnings import attach as attach_warnings

VARIANTS = ("ambient", "temperature_ramp", "copper")
# Per-variant protocol values used when the corresponding parameter is left null.
VARIANT_DEFAULTS = {
    "ambient": {"friction_per_fs": 0.01, "npt_steps": 50_000},
    "temperature_ramp": {"friction_per_fs": 0.002, "npt_steps": 20_000},
    "copper": {"friction_per_fs": 0.01, "npt_steps": 10_000},
}


def stage_plan(params: dict) -> list[dict]:
    """The ordered stages of ``params["variant"]`` with every value filled in."""
    variant = params["variant"]
    defaults = VARIANT_DEFAULTS[variant]
    t0 = params["temperature_k"]
    md = {
        "timestep_fs": params["timestep_fs"],
        "tdamp_fs": params["tdamp_fs"],
        "pdamp_fs": params["pdamp_fs"],
        "pressure_bar": params["pressure_bar"],
        "velocity_seed": params["velocity_seed"],
        "langevin_seed": params.get("langevin_seed"),
    }
    # None means "the protocol's value"; 0 means zero steps (an NVT-only run), not "unset".
    npt_steps = defaults["npt_steps"] if params["npt_steps"] is None else params["npt_steps"]
    friction = defaults["friction_per_fs"] if params["friction_per_fs"] is None else params["friction_per_fs"]
    opt = {"kind": "opt", "name": "opt", "fmax": params["opt_fmax"], "steps": params["opt_steps"]}
    nvt = {"kind": "md", "name": "nvt", "ensemble": "nvt_langevin", "steps": params["nvt_steps"],
           "temperature_k": t0, "friction_per_fs": friction, "init_velocities": True, **md}  # fmt: skip

    def npt(temperature, redraw, name):
        return {"kind": "md", "name": name, "ensemble": "npt_mtk", "steps": npt_steps,
                "temperature_k": temperature, "init_velocities": redraw, **md}  # fmt: skip

    if variant == "ambient":
        stages = [opt, nvt, npt(t0, False, "npt")]
    elif variant == "temperature_ramp":
        stages = [opt, nvt, *(npt(t, True, f"npt_{t:g}K") for t in params["ramp_temperatures_k"])]
    else:
        hot = params["copper_high_temperature_k"]
        stages = [opt, nvt, npt(t0, False, f"npt_{t0:g}K"), npt(hot, False, f"npt_{hot:g}K"),
                  npt(t0, False, f"npt_{t0:g}K_2"), {**opt, "name": "final_opt"}]  # fmt: skip
    return [s for s in stages if s["steps"] > 0]


def run(atoms, calculator, params, report) -> dict:
    """One task's stability run: batched (the lockstep path with this one structure) when the
    model has a batched path and ``engine`` asks for it, else through the ASE calculator."""
    engine = choose_engine(calculator, params, report)
    if engine is not None:
        meter = SpeedMeter(engine, calculator)
        (staged,) = run_together(engine, [(atoms, params, report)], report.check)
        meter.add(len(atoms), staged.evaluations)
        return {**run_from_staged(atoms, calculator, params, report, staged=staged), "engine": meter.record()}
    frame0 = atoms.copy()
    atoms = atoms.copy()
    atoms.calc = calculator
    stages = stage_plan(params)
    total = sum(s["steps"] for s in stages)
    _log_start(atoms, params, stages, report)
    offset, summaries, after_opt = 0, [], None
    with Trajectory(report.workdir / "trajectory.traj", "w") as traj:
        for stage in stages:
            if stage["kind"] == "opt":
                outcome = relax(atoms, optimizer="LBFGS", cell_filter=None, fmax=stage["fmax"], steps=stage["steps"],
                                report=report, trajectory=traj, stage=stage["name"], step_offset=offset,
                                total_steps=total)  # fmt: skip
                summaries.append({"name": stage["name"], "kind": "opt", **outcome})
                if after_opt is None:
                    after_opt = atoms.copy()
            else:
                summaries.append(run_md(atoms, stage, report=report, trajectory=traj,
                                        interval=params["trajectory_interval"], step_offset=offset,
                                        total_steps=total))  # fmt: skip
            report.log(f"stage {stage['name']} done: V = {atoms.get_volume():.1f} Å³")
            offset += stage["steps"]
    write(report.workdir / "final.cif", atoms)
    return summarize(frame0, after_opt, atoms, summaries, params, report)


def _log_start(atoms, params, stages, report) -> None:
    report.log(
        f"stability ({params['variant']}) of {atoms.get_chemical_formula()} ({len(atoms)} atoms): "
        + " → ".join(f"{s['name']} {s['steps']}" for s in stages)
    )


@dataclass
class Staged:
    """One task's share of ``run_together``: its structure through every stage, or why it stopped."""

    frame0: object
    atoms: object
    after_opt: object = None
    summaries: list = field(default_factory=list)
    stopped: BaseException | None = None  # exploded, failed, or its report raised (cancelled, lease, time)
    evaluations: int = 0  # force evaluations of this structure in the batched passes


def run_together(engine, jobs, check) -> list[Staged]:
    """The stages of several stability tasks in lockstep (``(atoms, params, report)``; the same
    stage plan shape, ``GROUPED["stability"].shared_params``), each structure's force calls in one
    batched pass per step: opt stages through ``relax_many`` (LBFGS, fixed cell), MD stages through
    ``run_md_together`` (each its own dynamics, velocities and RNG). Each task keeps its own
    trajectory, progress and log; one that explodes or is stopped ends alone, the others go on."""
    plans = [stage_plan(params) for _atoms, params, _report in jobs]
    total = sum(s["steps"] for s in plans[0])
    shares = []
    for (atoms, params, report), stages in zip(jobs, plans, strict=True):
        _log_start(atoms, params, stages, report)
        shares.append(Staged(frame0=atoms.copy(), atoms=atoms.copy()))
    with ExitStack() as stack:
        trajectories = [stack.enter_context(Trajectory(report.workdir / "trajectory.traj", "w"))
                        for _atoms, _params, report in jobs]  # fmt: skip
        offset = 0
        for n, stage in enumerate(plans[0]):
            live = [k for k, share in enumerate(shares) if share.stopped is None]
            if not live:
                break
            if stage["kind"] == "opt":
                _opt_together(engine, [shares[k] for k in live], stage, [jobs[k][2] for k in live],
                              [trajectories[k] for k in live], offset, total, check)  # fmt: skip
            else:
                runs = [MDRun(shares[k].atoms, plans[k][n], jobs[k][2], trajectories[k],
                              jobs[k][1]["trajectory_interval"], offset, total) for k in live]  # fmt: skip
                for k, done in zip(live, run_md_together(engine, runs, check=check), strict=True):
                    shares[k].evaluations += done.evaluations
                    shares[k].stopped = done.error
                    if done.summary is not None:
                        shares[k].summaries.append(done.summary)
            for k in live:
                if shares[k].stopped is None:
                    jobs[k][2].log(f"stage {plans[k][n]['name']} done: V = {shares[k].atoms.get_volume():.1f} Å³")
            offset += stage["steps"]
    return shares


def _opt_together(engine, shares, stage, reports, trajectories, offset, total, check) -> None:
    """A fixed-cell LBFGS stage on every share's structure in lockstep (``relax_many``)."""
    name = stage["name"]

    def observe(i, atoms, nsteps, energy, fmax_now):
        try:
            check_energy(energy, f" at {name} step {nsteps}")
            frame = atoms.copy()
            frame.calc = atoms.calc
            frame.info.update({"stage": name, "step": nsteps})
            trajectories[i].write(frame)
            reports[i].progress(offset + nsteps, total, stage=name, energy=energy, fmax=fmax_now,
                                volume=float(atoms.get_volume()) if atoms.pbc.all() else None)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - that task's own stop (explosion, cancel, lease, time limit)
            shares[i].stopped = exc
            return False
        return True

    summaries = relax_many(engine, [share.atoms for share in shares], optimizer_cls=OPTIMIZERS["LBFGS"],
                           fmax=stage["fmax"], steps=stage["steps"], check=check, observe=observe)  # fmt: skip
    for share, summary in zip(shares, summaries, strict=True):
        share.evaluations += summary["steps"] + 1
        error = summary.pop("error")
        if share.stopped is not None:
            continue
        if error:
            share.stopped = ExecutorError(f"{name} failed: {error}")
            continue
        share.summaries.append({"name": name, "kind": "opt", **summary})
        if share.after_opt is None:
            share.after_opt = share.atoms.copy()


def run_from_staged(atoms, calculator, params, report, *, staged: Staged) -> dict:
    """The task's result from its share of ``run_together`` (``calculator`` unused: the run is done)."""
    if staged.stopped is not None:
        raise staged.stopped
    write(report.workdir / "final.cif", staged.atoms)
    return summarize(staged.frame0, staged.after_opt, staged.atoms, staged.summaries, params, report)


def summarize(frame0, after_opt, final, summaries, params, report) -> dict:
    v0, v_final = frame0.get_volume(), final.get_volume()
    result = {
        "variant": params["variant"],
        "n_atoms": len(final),
        "stages": summaries,
        "initial": cell_summary(frame0),
        "final": cell_summary(final),
        "volume_ratio_final": float(v_final / v0),
        "volume_change_pct": float(100.0 * (v_final / v0 - 1.0)),
        "rmsd_final_to_initial_a": position_rmsd(frame0, final),
    }
    if params["coordination"]:
        initial_cn = metal_coordination(frame0)
        final_cn = metal_coordination(final)
        result["metal_coordination"] = {
            "method": "pymatgen CrystalNN(x_diff_weight=1.5, search_cutoff=4.5, weighted_cn=True), mean per element",
            "initial": initial_cn,
            "after_opt": metal_coordination(after_opt) if after_opt is not None else None,
            "final": final_cn,
            "change": {el: final_cn[el] - initial_cn[el] for el in initial_cn if el in final_cn},
        }
    result.update(stability_verdict(result, params))
    report.log(
        f"V/V0 = {result['volume_ratio_final']:.4f}, RMSD to input {result['rmsd_final_to_initial_a']:.3f} Å"
        + (f", ΔCN {result['metal_coordination']['change']}" if params["coordination"] else "")
        + f" → {'stable' if result['stable'] else 'UNSTABLE'}"
    )
    return attach_warnings("stability", result, params, report)


def stability_verdict(result: dict, params: dict) -> dict:
    """mofsim's pass/fail rule. MOFSimBench's exact rule is not in its repository, so the rule is
    explicit and adjustable: the final volume within ±``max_volume_change_pct`` of the input and,
    if ``max_coordination_change`` is set, no metal's mean CN moving by more than that. A run that
    exploded never gets here: its task fails."""
    reasons = []
    limit = params.get("max_volume_change_pct", 10.0)
    if abs(result["volume_change_pct"]) > limit:
        reasons.append(f"|ΔV| = {abs(result['volume_change_pct']):.1f} % > {limit:g} %")
    cn_limit = params.get("max_coordination_change")
    changes = (result.get("metal_coordination") or {}).get("change") or {}
    if cn_limit is not None:
        reasons += [f"ΔCN({el}) = {d:+.2f}" for el, d in changes.items() if abs(d) > cn_limit]
    criterion = f"|ΔV| ≤ {limit:g} %" + (f" and |ΔCN| ≤ {cn_limit:g}" if cn_limit is not None else "")
    return {"stable": not reasons, "stability_criterion": criterion, "instability_reasons": reasons}
