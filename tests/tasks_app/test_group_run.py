"""Across-task batching (issue 13): compatible QUEUED tasks claimed together, one batched pass,
each task keeping its own row, state, log, files and result.

A tiny float64 MACE model (tests/mace_model.py) keeps these fast and makes parity exact to
float64 round-off; the SevenNet-0 check on main-set MOFs is the slow one at the end.
"""

import dataclasses

import numpy as np
import pytest
from ase.build import bulk
from ase.io import write
from django.conf import settings

from models_app.models import MLModel
from tasks_app.choices import Priority, TaskStatus
from tasks_app.executors import grouped
from tasks_app.group_claim import claim_group
from tasks_app.group_run import execute_group
from tasks_app.models import Task, TaskLogLine
from tasks_app.params import validate_params
from tasks_app.scheduler import claim_next_task
from tasks_app.services import cancel_task, enqueue_task

pytestmark = pytest.mark.django_db
S = TaskStatus


@pytest.fixture
def tiny_mace(db):
    """A float64 MACE model row. Loading it sets torch's process-wide default dtype to float64
    (MACECalculator does), which breaks a SevenNet model loaded later in the same process, so the
    default is put back after the test."""
    import torch

    from tests.mace_model import write_converted_mace

    path = settings.WORKDIR / "models" / "tiny-group.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_converted_mace(path)
    dtype = torch.get_default_dtype()
    yield MLModel.objects.create(name="tiny-mace-group", family="mace", model_path="models/tiny-group.safetensors",
                                 config={"default_dtype": "float64"}, validation_status="valid")  # fmt: skip
    torch.set_default_dtype(dtype)


def cells():
    """Three different small Cu cells (4, 8 and 4 atoms), rattled so forces are not zero."""
    out = []
    shapes = ((3.6, (1, 1, 1)), (3.65, (2, 1, 1)), (3.55, (1, 1, 1)))
    for seed, (a, repeat) in enumerate(shapes):
        atoms = bulk("Cu", "fcc", a=a, cubic=True) * repeat
        atoms.rattle(0.05, seed=seed)
        out.append(atoms)
    return out


@pytest.fixture
def structures(owner, tmp_path):
    from structures_app.services import store_path

    def store(atoms, name):
        path = tmp_path / f"{name}.cif"
        write(path, atoms)
        return store_path(path, owner=owner, project=owner.username, name=name)

    return store


def submit(owner, structure, model, priority=Priority.NORMAL, kind="single_point", **params):
    return enqueue_task(owner=owner, kind=kind, params=validate_params(kind, params, "quick"), structure=structure,
                        model=model, priority=priority)  # fmt: skip


def claim_and_run(device="cpu"):
    first = claim_next_task(None)
    group = claim_group(first, None, device)
    assert group is not None, "the first task should have been groupable"
    return execute_group(group, device)


def reload(tasks):
    return [Task.objects.get(pk=t.pk) for t in tasks]


def test_it_runs_compatible_tasks_in_one_pass_with_the_numbers_of_one_at_a_time(owner, structures, tiny_mace,
                                                                                run_inline):  # fmt: skip
    stored = [structures(atoms, f"cu{i}") for i, atoms in enumerate(cells())]
    batched = [submit(owner, s, tiny_mace) for s in stored]
    done = claim_and_run()
    assert sorted(t.pk for t in done) == sorted(t.pk for t in batched)
    reference = [run_inline(submit(owner, s, tiny_mace, engine="ase")) for s in stored]
    for ours, theirs in zip(reload(batched), reload(reference), strict=True):
        assert ours.status == S.COMPLETED and theirs.status == S.COMPLETED, (ours.error, theirs.error)
        a, b = ours.result, theirs.result
        assert a["energy_ev"] == pytest.approx(b["energy_ev"], rel=1e-12, abs=1e-9)
        assert np.abs(np.array(a["forces_ev_per_a"]) - np.array(b["forces_ev_per_a"])).max() < 1e-9
        assert np.abs(np.array(a["stress_ev_per_a3"]) - np.array(b["stress_ev_per_a3"])).max() < 1e-10
        assert a["n_atoms"] == b["n_atoms"]
        p = a["provenance"]
        assert (p["engine"], p["batch_size"], p["batch_device"], p["device"]) == ("batched", 3, "cpu", "cpu")
        assert b["provenance"]["engine"] == "ase" and "batch_size" not in b["provenance"]  # it ran alone
        assert p["wall_time_s"] >= p["run_time_s"] >= p["batch_wall_time_s"] > 0
        assert (p["steps"], p["step_unit"], p["atom_steps"]) == (1, "force evaluations", a["n_atoms"])
        assert p["steps_per_s"] == pytest.approx(1 / p["run_time_s"])
        assert ours.attempts == 1 and ours.progress_step == 1
        assert ours.artifacts.filter(name="structure.extxyz").exists()
        assert TaskLogLine.objects.filter(task=ours, message__startswith="engine: batched on cpu, 3 tasks").exists()


def test_a_structure_the_model_cannot_evaluate_fails_only_its_task(owner, structures, tiny_mace):
    good = [submit(owner, structures(atoms, f"cu{i}"), tiny_mace) for i, atoms in enumerate(cells()[:2])]
    zinc = submit(owner, structures(bulk("Zn"), "zn"), tiny_mace)  # tiny MACE knows H, C, O, Cu only
    claim_and_run()
    first, second, bad = reload([*good, zinc])
    assert (first.status, second.status, bad.status) == (S.COMPLETED, S.COMPLETED, S.FAILED)
    assert "could not evaluate this structure" in bad.error
    assert bad.result in (None, {})


def test_a_member_cancelled_during_the_pass_is_cancelled_alone(owner, structures, tiny_mace, monkeypatch):
    tasks = [submit(owner, structures(atoms, f"cu{i}"), tiny_mace) for i, atoms in enumerate(cells())]
    victim = tasks[1]
    original = grouped.GROUPED["single_point"]

    def compute_then_cancel(engine, jobs, check):
        out = original.compute(engine, jobs, check)
        cancel_task(Task.objects.get(pk=victim.pk), by="test")  # while the group is still running
        return out

    monkeypatch.setitem(grouped.GROUPED, "single_point", dataclasses.replace(original, compute=compute_then_cancel))
    claim_and_run()
    first, cancelled, last = reload(tasks)
    assert (first.status, cancelled.status, last.status) == (S.COMPLETED, S.CANCELLED, S.COMPLETED)
    assert cancelled.result in (None, {}) and first.result["provenance"]["batch_size"] == 3


def test_companions_follow_the_ranking_and_never_overtake_a_higher_priority_task(owner, outsider, structures,
                                                                                tiny_mace, emt):  # fmt: skip
    cu = structures(cells()[0], "cu")
    low = submit(owner, cu, tiny_mace, Priority.LOW)
    normal = submit(owner, cu, tiny_mace, Priority.NORMAL)
    high = submit(owner, cu, tiny_mace, Priority.HIGH)
    other = submit(outsider, cu, emt, Priority.NORMAL)  # not groupable (EMT), waits at NORMAL
    first = claim_next_task(None)
    assert first.pk == high.pk
    group = claim_group(first, None, "cpu")
    assert [t.pk for t in group] == [high.pk, normal.pk]  # LOW would overtake the waiting NORMAL task
    assert Task.objects.get(pk=low.pk).status == S.QUEUED and Task.objects.get(pk=other.pk).status == S.QUEUED
    assert all(Task.objects.get(pk=t.pk).status == S.ASSIGNED for t in group)


def test_the_group_stops_at_worker_claim_batch_and_at_the_memory_budget(owner, structures, tiny_mace, settings,
                                                                       monkeypatch):  # fmt: skip
    cu = structures(cells()[0], "cu")
    tasks = [submit(owner, cu, tiny_mace) for _ in range(4)]
    settings.WORKER_CLAIM_BATCH = 3
    group = claim_group(claim_next_task(None), None, "cpu")
    assert [t.pk for t in group] == [t.pk for t in tasks[:3]]
    monkeypatch.setenv("BATCH_MEMORY_MB", "0.001")  # not even one structure: the first runs alone
    more = submit(owner, cu, tiny_mace)
    group = claim_group(claim_next_task(None), None, "cpu")
    assert [t.pk for t in group] == [tasks[3].pk]
    assert Task.objects.get(pk=more.pk).status == S.QUEUED


def test_the_reference_engine_d3_other_kinds_and_batching_off_are_never_grouped(owner, structures, tiny_mace, emt,
                                                                                settings, temp_kind):  # fmt: skip
    from tasks_app.executors import single_point

    cu = structures(cells()[0], "cu")
    tasks = [submit(owner, cu, tiny_mace, engine="ase"), submit(owner, cu, tiny_mace, d3=True), submit(owner, cu, emt)]
    other = temp_kind("single_point_elsewhere", single_point.run, needs_structure=True, needs_model=True)
    tasks.append(submit(owner, cu, tiny_mace, kind=other))  # engine "batched", but a kind without a grouped pass
    for task in tasks:
        first = claim_next_task(None)
        assert first.pk == task.pk
        assert claim_group(first, None, "cpu") is None
    submit(owner, cu, tiny_mace)
    submit(owner, cu, tiny_mace)
    settings.WORKER_CLAIM_BATCH = 1
    assert claim_group(claim_next_task(None), None, "cpu") is None
    assert Task.objects.filter(status=S.QUEUED).count() == 1


def test_the_worker_actor_runs_a_claimed_group(owner, structures, tiny_mace):
    from tasks_app.tasks import run_next_task

    tasks = [submit(owner, structures(atoms, f"cu{i}"), tiny_mace) for i, atoms in enumerate(cells())]
    run_next_task.fn(str(tasks[0].pk))  # one wake-up message runs the whole group
    assert [t.status for t in reload(tasks)] == [S.COMPLETED] * 3
    assert {t.result["provenance"]["batch_size"] for t in reload(tasks)} == {3}


def test_optimizations_relax_in_lockstep_with_the_steps_and_numbers_of_one_at_a_time(owner, structures, tiny_mace,
                                                                                     run_inline):  # fmt: skip
    stored = [structures(atoms, f"cu{i}") for i, atoms in enumerate(cells())]
    params = {"optimizer": "BFGS", "fmax": 0.01, "steps": 40}
    batched = [submit(owner, s, tiny_mace, kind="optimization", **params) for s in stored]
    claim_and_run()
    reference = [run_inline(submit(owner, s, tiny_mace, kind="optimization", engine="ase", **params)) for s in stored]
    for ours, theirs in zip(reload(batched), reload(reference), strict=True):
        assert ours.status == S.COMPLETED and theirs.status == S.COMPLETED, (ours.error, theirs.error)
        a, b = ours.result, theirs.result
        assert (a["converged"], a["steps"]) == (b["converged"], b["steps"])
        assert a["final_energy_ev"] == pytest.approx(b["final_energy_ev"], rel=1e-10)
        assert a["final"]["volume_a3"] == pytest.approx(b["final"]["volume_a3"], rel=1e-9)
        assert a["provenance"]["engine"] == "batched" and a["provenance"]["batch_size"] == 3
        assert ours.artifacts.filter(name="trajectory.traj").exists() and ours.metric_points.count() == a["steps"] + 1


@pytest.mark.django_db(transaction=True)  # the group's lease thread must see the cancel commit
def test_an_optimization_cancelled_mid_relaxation_stops_alone(owner, structures, tiny_mace, monkeypatch):
    from tests.conftest import wait_for

    params = {"optimizer": "FIRE", "cell_filter": None, "fmax": 1e-4, "steps": 12}  # fixed cell: fast
    tasks = [submit(owner, structures(atoms, f"cu{i}"), tiny_mace, kind="optimization", **params)
             for i, atoms in enumerate(cells())]  # fmt: skip
    victim = tasks[0]
    original = grouped.GROUPED["optimization"]

    def compute_with_a_cancel(engine, jobs, check):
        report = jobs[0][2]
        progress = report.progress

        def cancel_at_step_3(step, total, **metrics):
            if step == 3:
                cancel_task(Task.objects.get(pk=victim.pk), by="test")
                wait_for(lambda: report.keeper.lost == "cancelled", timeout=10)  # the group's lease thread saw it
            return progress(step, total, **metrics)

        report.progress = cancel_at_step_3
        return original.compute(engine, jobs, check)

    patched = dataclasses.replace(original, compute=compute_with_a_cancel)
    monkeypatch.setitem(grouped.GROUPED, "optimization", patched)
    claim_and_run()
    cancelled, *others = reload(tasks)
    assert cancelled.status == S.CANCELLED and cancelled.result in (None, {})
    assert cancelled.metric_points.count() <= 3
    for task in others:
        assert task.status == S.COMPLETED, task.error
        assert task.result["steps"] > 3 and task.result["provenance"]["batch_size"] == 3


STABILITY = {"opt_steps": 3, "nvt_steps": 4, "npt_steps": 4, "trajectory_interval": 2, "langevin_seed": 3,
             "coordination": False}  # fmt: skip


def test_stability_md_runs_in_lockstep_with_the_numbers_of_one_at_a_time(owner, structures, tiny_mace, run_inline):
    """Stability (opt → Langevin NVT → MTK NPT) of three tasks in one lockstep pass vs each alone
    through the ASE calculator: same seeds, so the same trajectory, volumes and temperatures."""
    stored = [structures(atoms, f"cu{i}") for i, atoms in enumerate(cells())]
    batched = [submit(owner, s, tiny_mace, kind="stability", velocity_seed=i, **STABILITY)
               for i, s in enumerate(stored)]  # fmt: skip
    claim_and_run()
    reference = [run_inline(submit(owner, s, tiny_mace, kind="stability", engine="ase", velocity_seed=i, **STABILITY))
                 for i, s in enumerate(stored)]  # fmt: skip
    for ours, theirs in zip(reload(batched), reload(reference), strict=True):
        assert ours.status == S.COMPLETED and theirs.status == S.COMPLETED, (ours.error, theirs.error)
        a, b = ours.result, theirs.result
        assert [st["name"] for st in a["stages"]] == [st["name"] for st in b["stages"]] == ["opt", "nvt", "npt"]
        for mine, ref in zip(a["stages"], b["stages"], strict=True):
            assert mine["final_energy_ev"] == pytest.approx(ref["final_energy_ev"], rel=1e-10)
            if "mean_temperature_k" in ref:
                assert mine["mean_temperature_k"] == pytest.approx(ref["mean_temperature_k"], rel=1e-9)
        assert a["volume_ratio_final"] == pytest.approx(b["volume_ratio_final"], rel=1e-10)
        assert a["rmsd_final_to_initial_a"] == pytest.approx(b["rmsd_final_to_initial_a"], rel=1e-8, abs=1e-12)
        ours_t = list(ours.metric_points.filter(data__stage="npt").values_list("data__temperature", flat=True))
        theirs_t = list(theirs.metric_points.filter(data__stage="npt").values_list("data__temperature", flat=True))
        assert len(ours_t) == 2 and ours_t == pytest.approx(theirs_t, rel=1e-9)
        p = a["provenance"]
        assert (p["engine"], p["batch_size"], p["step_unit"]) == ("batched", 3, "force evaluations")
        assert p["steps"] == a["stages"][0]["steps"] + 1 + 4 + 4  # opt (first + one per step), nvt, npt
        assert (
            ours.artifacts.filter(name="trajectory.traj").exists() and ours.artifacts.filter(name="final.cif").exists()
        )


@pytest.mark.django_db(transaction=True)  # the group's lease thread must see the cancel commit
def test_a_stability_task_cancelled_mid_md_stops_alone(owner, structures, tiny_mace, monkeypatch):
    from tests.conftest import wait_for

    tasks = [submit(owner, structures(atoms, f"cu{i}"), tiny_mace, kind="stability", **STABILITY)
             for i, atoms in enumerate(cells())]  # fmt: skip
    victim = tasks[1]
    original = grouped.GROUPED["stability"]

    def compute_with_a_cancel(engine, jobs, check):
        report = jobs[1][2]
        progress = report.progress

        def cancel_in_nvt(step, total, **metrics):
            if metrics.get("stage") == "nvt":
                cancel_task(Task.objects.get(pk=victim.pk), by="test")
                wait_for(lambda: report.holding.lost == "cancelled", timeout=10)
            return progress(step, total, **metrics)

        report.progress = cancel_in_nvt
        return original.compute(engine, jobs, check)

    monkeypatch.setitem(grouped.GROUPED, "stability", dataclasses.replace(original, compute=compute_with_a_cancel))
    claim_and_run()
    first, cancelled, last = reload(tasks)
    assert cancelled.status == S.CANCELLED and cancelled.result in (None, {})
    assert not cancelled.metric_points.filter(data__stage="npt").exists()
    for task in (first, last):
        assert task.status == S.COMPLETED, task.error
        assert [st["name"] for st in task.result["stages"]] == ["opt", "nvt", "npt"]


@pytest.mark.slow
def test_sevennet_grouped_single_points_match_the_ase_calculator_on_main_set_mofs(owner, builtin_models, run_inline):
    from structures_app.services import store_path

    main_set = settings.DATA_DIR / "mofsimbench" / "mof_benchmark" / "experiments" / "structures" / "main_set"
    model = builtin_models["sevennet-0"]
    stored = [store_path(main_set / f"{name}.cif", owner=owner, project=owner.username, name=name)
              for name in ("calf", "SAS_primitive")]  # fmt: skip
    batched = [submit(owner, s, model) for s in stored]
    claim_and_run()
    reference = [run_inline(submit(owner, s, model, engine="ase")) for s in stored]
    for ours, theirs in zip(reload(batched), reload(reference), strict=True):
        assert ours.status == S.COMPLETED and theirs.status == S.COMPLETED, (ours.error, theirs.error)
        a, b = ours.result, theirs.result
        assert a["provenance"]["engine"] == "batched" and a["provenance"]["batch_size"] == 2
        assert abs(a["energy_ev"] - b["energy_ev"]) <= 2e-6 * abs(b["energy_ev"])
        assert np.abs(np.array(a["forces_ev_per_a"]) - np.array(b["forces_ev_per_a"])).max() < 1e-4
        assert np.abs(np.array(a["stress_ev_per_a3"]) - np.array(b["stress_ev_per_a3"])).max() < 1e-6
