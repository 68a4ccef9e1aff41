"""Task kinds whose tasks can share one batched pass across tasks (docs/batching.md, issue 13).

For each such kind: the parameters that must be equal for two tasks to share a pass (the ones the
pass itself uses), ``compute`` — the pass over every member's structure, one item per member, in
order — and ``finish``, the executor function (``run(atoms, calculator, params, report)`` plus
``item=``) that turns a member's item into that task's result with the same checks, files, progress
and log as its one-at-a-time executor. Plain Python like every executor: the platform side (claim,
leases, states) is ``tasks_app.group_claim`` and ``tasks_app.group_run``.
"""

from collections.abc import Callable
from dataclasses import dataclass

from tasks_app.executors import bulk_modulus, heat_capacity, interaction_energy, optimization, single_point, stability


@dataclass(frozen=True)
class GroupedKind:
    shared_params: tuple[str, ...]
    compute: Callable  # (engine, jobs: [(atoms, params, report)], check) -> [item per job]
    finish: Callable  # run(atoms, calculator, params, report, *, item) -> result dict
    evaluations: Callable  # item -> force evaluations of this member in the pass (its speed record)


def _single_points(engine, jobs, check):
    return engine.evaluate([atoms for atoms, _params, _report in jobs], check)


def _single_point_finish(atoms, calculator, params, report, *, item):
    return single_point.run_from_outcome(atoms, calculator, params, report, outcome=item)


def _optimization_finish(atoms, calculator, params, report, *, item):
    return optimization.run_from_relaxed(atoms, calculator, params, report, relaxed=item)


def _bulk_modulus_finish(atoms, calculator, params, report, *, item):
    return bulk_modulus.run_from_pass(atoms, calculator, params, report, scanned=item)


def _heat_capacity_finish(atoms, calculator, params, report, *, item):
    return heat_capacity.run_from_pass(atoms, calculator, params, report, displaced=item)


def _stability_finish(atoms, calculator, params, report, *, item):
    return stability.run_from_staged(atoms, calculator, params, report, staged=item)


def _interaction_energy_finish(atoms, calculator, params, report, *, item):
    return interaction_energy.run_from_pass(atoms, calculator, params, report, evaluated=item)


GROUPED: dict[str, GroupedKind] = {
    # compute_stress is not shared: every pass computes the stress, a task that does not want it drops it.
    "single_point": GroupedKind(("d3", "engine"), _single_points, _single_point_finish, lambda item: 1),
    # Lockstep relaxation: one optimizer rule, cell filter, fmax and step limit for the whole pass;
    # a structure's evaluations are its first one plus one per optimiser step.
    "optimization": GroupedKind(
        ("d3", "engine", "optimizer", "cell_filter", "fmax", "steps"),
        optimization.relax_together,
        _optimization_finish,
        lambda item: int(item.summary.get("steps") or 0) + 1,
    ),
    # Both lockstep stages share one step rule each, so the relaxation's and the points' fmax and
    # steps are shared; npoints and eps are not: another task's strained cells are just more cells
    # in the same lockstep. Its evaluations: the member's own, counted by its share's meter.
    "bulk_modulus": GroupedKind(
        ("d3", "engine", "relax_fmax", "relax_steps", "point_fmax", "point_steps"),
        bulk_modulus.relax_together,
        _bulk_modulus_finish,
        lambda item: item.share.meter.steps,
    ),
    # The relaxation's step rule is shared (fmax, steps); supercell and displacement are not: another
    # task's displaced cells are just more structures in the packs. Evaluations counted as for B0.
    "heat_capacity": GroupedKind(
        ("d3", "engine", "relax_fmax", "relax_steps"),
        heat_capacity.relax_together,
        _heat_capacity_finish,
        lambda item: item.share.meter.steps,
    ),
    # MD in lockstep (the kind that runs MD): every stage of the plan together — fixed-cell LBFGS
    # through relax_many, Langevin NVT / MTK NPT through run_md_together —, so the plan's shape (stages,
    # their steps, the opt rule) is shared; temperatures, seeds, time step and damping are each
    # task's own (every structure has its own dynamics object).
    "stability": GroupedKind(
        ("d3", "engine", "variant", "opt_fmax", "opt_steps", "nvt_steps", "npt_steps", "ramp_temperatures_k"),
        stability.run_together,
        _stability_finish,
        lambda item: item.evaluations,
    ),
    # Three pure energy calls per member (complex, host, isolated guest), all members' in one
    # evaluate; guest, position, rotation, mode and reference only decide which structures a member adds.
    "interaction_energy": GroupedKind(
        ("d3", "engine"),
        interaction_energy.evaluate_together,
        _interaction_energy_finish,
        lambda item: item.meter.steps,
    ),
}
