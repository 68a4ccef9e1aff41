"""Across-task batching of bulk modulus and heat capacity (issue 13): several tasks' relaxations,
strained cells and displaced cells in shared passes, each task with the result it gets alone.

Tiny float64 MACE (tests/mace_model.py) on small Cu cells: parity with the same tasks run one at
a time (``engine: "ase"``) to 1e-6, failures and cancels that stay with their task.
"""

import dataclasses

import pytest
from ase.build import bulk

from tasks_app.choices import TaskStatus
from tasks_app.executors import grouped
from tasks_app.models import Task, TaskLogLine
from tasks_app.services import cancel_task
from tests.tasks_app import test_group_run as group
from tests.tasks_app.test_group_run import cells, claim_and_run, reload, submit

pytestmark = pytest.mark.django_db
S = TaskStatus
tiny_mace, structures = group.tiny_mace, group.structures  # the fixtures of the single-point and optimisation tests

B0 = {"relax_fmax": 0.05, "relax_steps": 20, "point_fmax": 0.01, "point_steps": 15}


def test_bulk_moduli_of_several_tasks_share_passes_and_match_one_at_a_time(owner, structures, tiny_mace,
                                                                           run_inline):  # fmt: skip
    stored = [structures(atoms, f"cu{i}") for i, atoms in enumerate(cells())]
    npoints = (5, 7, 5)  # not shared: another task's points are just more cells in the lockstep
    batched = [submit(owner, s, tiny_mace, kind="bulk_modulus", npoints=n, **B0)
               for s, n in zip(stored, npoints, strict=True)]  # fmt: skip
    claim_and_run()
    reference = [run_inline(submit(owner, s, tiny_mace, kind="bulk_modulus", npoints=n, engine="ase", **B0))
                 for s, n in zip(stored, npoints, strict=True)]  # fmt: skip
    for ours, theirs in zip(reload(batched), reload(reference), strict=True):
        assert ours.status == S.COMPLETED and theirs.status == S.COMPLETED, (ours.error, theirs.error)
        a, b = ours.result, theirs.result
        assert (a["relax"]["steps"], a["relax"]["converged"]) == (b["relax"]["steps"], b["relax"]["converged"])
        assert a["relaxed_volume_a3"] == pytest.approx(b["relaxed_volume_a3"], rel=1e-9)
        assert len(a["points"]) == len(b["points"]) == ours.params["npoints"]
        for mine, theirs_point in zip(a["points"], b["points"], strict=True):
            assert mine["volume_a3"] == pytest.approx(theirs_point["volume_a3"], rel=1e-9)
            assert mine["energy_ev"] == pytest.approx(theirs_point["energy_ev"], rel=1e-6)
            assert (mine["steps"], mine["converged"]) == (theirs_point["steps"], theirs_point["converged"])
        assert b["b0_gpa"] is not None and a["b0_gpa"] == pytest.approx(b["b0_gpa"], rel=1e-6)
        p = a["provenance"]
        assert (p["engine"], p["batch_size"]) == ("batched", 3)
        evaluations = a["relax"]["steps"] + 1 + sum(point["steps"] + 1 for point in a["points"])
        assert p["steps"] == a["engine"]["force_evaluations"] == evaluations
        assert ours.artifacts.filter(name="trajectory.traj").exists()
        assert ours.artifacts.filter(name="relaxed.cif").exists()
        assert ours.metric_points.count() == theirs.metric_points.count()
        assert TaskLogLine.objects.filter(task=ours, message__startswith="B0 = ").exists()


def test_a_bulk_modulus_that_fails_in_the_shared_pass_fails_alone(owner, structures, tiny_mace):
    good = [submit(owner, structures(atoms, f"cu{i}"), tiny_mace, kind="bulk_modulus", npoints=5, **B0)
            for i, atoms in enumerate(cells()[:2])]  # fmt: skip
    zinc = submit(
        owner, structures(bulk("Zn"), "zn"), tiny_mace, kind="bulk_modulus", npoints=5, **B0
    )  # not in tiny MACE
    claim_and_run()
    first, second, bad = reload([*good, zinc])
    assert (first.status, second.status, bad.status) == (S.COMPLETED, S.COMPLETED, S.FAILED), bad.error
    assert "relaxation failed" in bad.error and bad.result in (None, {})
    assert first.result["provenance"]["batch_size"] == 3 and first.result["b0_gpa"] is not None


@pytest.mark.django_db(transaction=True)  # the group's lease thread must see the cancel commit
def test_a_bulk_modulus_cancelled_mid_pass_stops_alone(owner, structures, tiny_mace, monkeypatch):
    from tests.conftest import wait_for

    tasks = [submit(owner, structures(atoms, f"cu{i}"), tiny_mace, kind="bulk_modulus", npoints=5, **B0)
             for i, atoms in enumerate(cells())]  # fmt: skip
    victim = tasks[0]
    original = grouped.GROUPED["bulk_modulus"]

    def compute_with_a_cancel(engine, jobs, check):
        report = jobs[0][2]
        progress = report.progress
        calls = [0]

        def cancel_at_the_third_step(step, total, **metrics):
            calls[0] += 1
            if calls[0] == 3:
                cancel_task(Task.objects.get(pk=victim.pk), by="test")
                wait_for(lambda: report.keeper.lost == "cancelled", timeout=10)  # the group's lease thread saw it
            return progress(step, total, **metrics)

        report.progress = cancel_at_the_third_step
        return original.compute(engine, jobs, check)

    monkeypatch.setitem(grouped.GROUPED, "bulk_modulus", dataclasses.replace(original, compute=compute_with_a_cancel))
    claim_and_run()
    cancelled, *others = reload(tasks)
    assert cancelled.status == S.CANCELLED and cancelled.result in (None, {})
    assert cancelled.metric_points.count() <= 2
    for task in others:
        assert task.status == S.COMPLETED, task.error
        assert task.metric_points.count() > 5
        assert len(task.result["points"]) == 5 and task.result["provenance"]["batch_size"] == 3


CV = {"relax_fmax": 0.05, "relax_steps": 20, "mesh_length": 20}


def low_symmetry_cells():
    """Cu cells with one atom nudged off its site: many displaced cells each (not one)."""
    out = []
    for i, atoms in enumerate(cells()):
        atoms.positions[0] += (0.03, 0.01 * i, 0.0)
        out.append(atoms)
    return out


def test_heat_capacities_of_several_tasks_share_passes_and_match_one_at_a_time(owner, structures, tiny_mace,
                                                                               run_inline):  # fmt: skip
    stored = [structures(atoms, f"cu{i}") for i, atoms in enumerate(low_symmetry_cells())]
    displacements = (0.01, 0.02, 0.01)  # not shared: another task's displaced cells are just more structures
    batched = [submit(owner, s, tiny_mace, kind="heat_capacity", displacement_a=d, **CV)
               for s, d in zip(stored, displacements, strict=True)]  # fmt: skip
    claim_and_run()
    reference = [run_inline(submit(owner, s, tiny_mace, kind="heat_capacity", displacement_a=d, engine="ase", **CV))
                 for s, d in zip(stored, displacements, strict=True)]  # fmt: skip
    for ours, theirs in zip(reload(batched), reload(reference), strict=True):
        assert ours.status == S.COMPLETED and theirs.status == S.COMPLETED, (ours.error, theirs.error)
        a, b = ours.result, theirs.result
        assert (a["relax"]["steps"], a["relax"]["converged"]) == (b["relax"]["steps"], b["relax"]["converged"])
        assert a["n_displacements"] == b["n_displacements"] > 3
        assert a["cv_j_per_mol_k"] == pytest.approx(b["cv_j_per_mol_k"], rel=1e-6, abs=1e-9)
        assert a["cv300_j_per_g_k"] == pytest.approx(b["cv300_j_per_g_k"], rel=1e-6)
        assert a["n_imaginary_gamma"] == b["n_imaginary_gamma"]
        p = a["provenance"]
        assert (p["engine"], p["batch_size"]) == ("batched", 3)
        assert p["steps"] == a["engine"]["force_evaluations"] == a["relax"]["steps"] + 1 + a["n_displacements"]
        for name in ("trajectory.traj", "relaxed.cif", "phonopy.yaml", "thermal_properties.npz"):
            assert ours.artifacts.filter(name=name).exists(), name
        last = ours.metric_points.order_by("id").last()
        assert last.data["stage"] == "phonons" and last.step == last.data["displaced_cells"] == a["n_displacements"]


def test_a_heat_capacity_that_fails_in_the_shared_pass_fails_alone(owner, structures, tiny_mace):
    good = [submit(owner, structures(atoms, f"cu{i}"), tiny_mace, kind="heat_capacity", **CV)
            for i, atoms in enumerate(low_symmetry_cells()[:2])]  # fmt: skip
    zinc = submit(owner, structures(bulk("Zn"), "zn"), tiny_mace, kind="heat_capacity", **CV)  # not in tiny MACE
    claim_and_run()
    first, second, bad = reload([*good, zinc])
    assert (first.status, second.status, bad.status) == (S.COMPLETED, S.COMPLETED, S.FAILED), bad.error
    assert "relaxation failed" in bad.error and bad.result in (None, {})
    assert first.result["provenance"]["batch_size"] == 3 and first.result["cv300_j_per_g_k"] > 0


def exploding_below(threshold, real):
    """The explosion guard, tripped by any energy below ``threshold`` (the 8-atom cell's, not the 4-atom ones')."""
    from mofsim_site.executors import ExecutorError

    def guard(energy, where=""):
        if energy < threshold:
            raise ExecutorError(f"System exploded{where}: test")
        return real(energy, where)

    return guard


def test_a_bulk_modulus_whose_point_explodes_fails_alone(owner, structures, tiny_mace, monkeypatch):
    from tasks_app.executors import bulk_modulus

    tasks = [submit(owner, structures(atoms, f"cu{i}"), tiny_mace, kind="bulk_modulus", npoints=5, **B0)
             for i, atoms in enumerate(cells())]  # fmt: skip
    monkeypatch.setattr(bulk_modulus, "check_energy", exploding_below(-4.0, bulk_modulus.check_energy))  # points only
    claim_and_run()
    first, bad, last = reload(tasks)
    assert (first.status, bad.status, last.status) == (S.COMPLETED, S.FAILED, S.COMPLETED), bad.error
    assert bad.error.startswith("E(V) point 0: System exploded") and bad.result in (None, {})
    assert len(first.result["points"]) == len(last.result["points"]) == 5


def test_a_heat_capacity_whose_displaced_cell_explodes_fails_alone(owner, structures, tiny_mace, monkeypatch):
    from tasks_app.executors import heat_capacity

    tasks = [submit(owner, structures(atoms, f"cu{i}"), tiny_mace, kind="heat_capacity", **CV)
             for i, atoms in enumerate(low_symmetry_cells())]  # fmt: skip
    monkeypatch.setattr(heat_capacity, "check_energy", exploding_below(-4.0, heat_capacity.check_energy))
    claim_and_run()
    first, bad, last = reload(tasks)
    assert (first.status, bad.status, last.status) == (S.COMPLETED, S.FAILED, S.COMPLETED), bad.error
    assert "System exploded in displaced cell 1" in bad.error and bad.result in (None, {})
    assert first.result["cv300_j_per_g_k"] > 0 and last.result["cv300_j_per_g_k"] > 0
