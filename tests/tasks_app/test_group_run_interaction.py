"""Across-task batching of interaction energy (issue 13): every task's complex, host and isolated
guest in one ``evaluate`` (3N structures), each task with the result it gets alone.

Tiny float64 MACE (tests/mace_model.py; knows H, C, O, Cu) on small Cu slabs through the worker's
claim and group path: parity with the same tasks run one at a time (``engine: "ase"``) to 1e-8,
and failures that stay with their task.
"""

import numpy as np
import pytest
from ase.build import fcc111

from tasks_app.choices import TaskStatus
from tasks_app.executors import interaction_energy
from tasks_app.group_claim import claim_group
from tasks_app.models import Task, TaskLogLine
from tasks_app.params import validate_params
from tasks_app.scheduler import claim_next_task
from tasks_app.services import enqueue_task
from tests.tasks_app import test_group_run as group
from tests.tasks_app.test_group_run import claim_and_run, reload, submit

pytestmark = pytest.mark.django_db
S = TaskStatus
tiny_mace, structures = group.tiny_mace, group.structures  # the fixtures of the single-point tests


def slab(seed=0, size=(3, 3, 2)):
    host = fcc111("Cu", size=size, vacuum=6.0)
    host.pbc = True
    host.rattle(0.02, seed=seed)
    return host


def over(host, height):
    """A guest position ``height`` Å above the slab's last atom."""
    return [*host.positions[-1, :2], host.positions[:, 2].max() + height]


def members(structures):
    """Three different tasks' inputs: two guests placed on two slabs, and a stored complex whose
    guest (H2O, as it sits: no G2 geometry) is given by its indices."""
    a, b = slab(0), slab(1, (3, 2, 2))
    complex_, _host, _guest, idx = interaction_energy.assemble(
        slab(2), validate_params("interaction_energy", {"guest": "H2O", "guest_position": over(slab(2), 1.9)})
    )
    return [
        (structures(a, "slab_a"), {"guest": "H2O", "guest_position": over(a, 1.8)}),
        (structures(b, "slab_b"), {"guest": "CO2", "guest_position": over(b, 2.2), "guest_rotation_deg": [0, 90, 0]}),
        (structures(complex_, "complex_c"), {"mode": "complex", "guest_indices": idx.tolist()}),
    ]


KIND = "interaction_energy"


def test_interaction_energies_of_several_tasks_share_one_pass_and_match_one_at_a_time(owner, structures, tiny_mace,
                                                                                      run_inline):  # fmt: skip
    inputs = members(structures)
    batched = [submit(owner, s, tiny_mace, kind=KIND, **p) for s, p in inputs]
    done = claim_and_run()
    assert sorted(t.pk for t in done) == sorted(t.pk for t in batched)
    reference = [run_inline(submit(owner, s, tiny_mace, kind=KIND, engine="ase", **p)) for s, p in inputs]
    for ours, theirs in zip(reload(batched), reload(reference), strict=True):
        assert ours.status == S.COMPLETED and theirs.status == S.COMPLETED, (ours.error, theirs.error)
        a, b = ours.result, theirs.result
        for key in ("interaction_energy_ev", "energy_complex_ev", "energy_host_ev", "energy_guest_ev"):
            assert a[key] == pytest.approx(b[key], abs=1e-8)
        assert np.abs(np.array(a["forces_complex_ev_per_a"]) - np.array(b["forces_complex_ev_per_a"])).max() < 1e-9
        assert (a["guest_formula"], a["guest_indices"]) == (b["guest_formula"], b["guest_indices"])
        assert a["min_host_guest_distance_a"] == b["min_host_guest_distance_a"]
        p = a["provenance"]
        assert (p["engine"], p["batch_size"], p["batch_forward_passes"]) == ("batched", 3, 1)  # 9 structures, 1 pass
        assert p["steps"] == a["engine"]["force_evaluations"] == 3
        n_complex, n_guest = len(a["forces_complex_ev_per_a"]), len(a["guest_indices"])
        assert p["atom_steps"] == a["engine"]["atom_steps"] == 2 * n_complex  # complex + host + isolated guest
        assert p["atom_steps"] == b["provenance"]["atom_steps"] and n_guest == 3  # as the calculator hook counts
        assert b["provenance"]["engine"] == "ase" and b["engine"]["engine"] == "ase"
        assert ours.progress_step == theirs.progress_step == 3
        assert ours.metric_points.count() == theirs.metric_points.count()
        assert ours.artifacts.filter(name="complex.extxyz").exists()
        lines = [list(TaskLogLine.objects.filter(task=t, message__startswith="E_int").values_list("message", flat=True))
                 for t in (ours, theirs)]  # fmt: skip
        assert len(lines[0]) == 2 and lines[0] == lines[1]
        assert TaskLogLine.objects.filter(task=ours, message__startswith="engine: batched on cpu, 3 tasks").exists()
    energies = {t.result["interaction_energy_ev"] for t in reload(batched)}
    assert len(energies) == 3 and all(abs(e) > 1e-4 for e in energies)  # three different, interacting guests


def test_a_member_the_model_cannot_evaluate_or_whose_guest_is_wrong_fails_alone(owner, structures, tiny_mace):
    (good_slab, good_params), *_ = members(structures)
    good = submit(owner, good_slab, tiny_mace, kind=KIND, **good_params)
    nitrogen = submit(owner, good_slab, tiny_mace, kind=KIND, guest="N2", guest_position=good_params["guest_position"])
    wrong = submit(owner, good_slab, tiny_mace, kind=KIND, mode="complex", guest="CO2", guest_indices=[0, 1, 2])
    done = claim_and_run()
    assert len(done) == 3
    ok, bad, mismatched = reload([good, nitrogen, wrong])
    assert ok.status == S.COMPLETED, ok.error
    assert ok.result["provenance"]["batch_size"] == 3
    assert bad.status == S.FAILED and "could not evaluate the complex" in bad.error  # the tiny MACE knows no N
    assert mismatched.status == S.FAILED and mismatched.error == "guest atoms Cu3 are not CO2"
    assert bad.result in (None, {}) and mismatched.result in (None, {})


def test_a_task_stored_without_engine_keeps_the_reference_path(owner, structures, tiny_mace):
    stored, params = members(structures)[0]
    validated = validate_params(KIND, params)
    legacy = enqueue_task(owner=owner, kind=KIND, structure=stored, model=tiny_mace,
                          params={k: v for k, v in validated.items() if k != "engine"})  # fmt: skip
    submit(owner, stored, tiny_mace, kind=KIND, **params)  # a groupable one waits behind it
    first = claim_next_task(None)
    assert first.pk == legacy.pk and claim_group(first, None, "cpu") is None
    assert Task.objects.filter(status=S.QUEUED).count() == 1
