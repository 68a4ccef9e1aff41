"""The speed record every completed task carries (tasks_app.speed) and where it is shown: the
result view, the benchmark report's columns and the compare page (same device only)."""

import pytest
from django.urls import reverse

from tasks_app.benchmarks import report, table
from tasks_app.services import enqueue_task
from tasks_app.speed import FORCE_EVALUATIONS, PROGRESS_STEPS, ForceCounter, speed_record
from tests.result_tasks import completed_task


@pytest.mark.django_db
def test_a_completed_task_records_force_evaluations_and_their_speed(owner, cu_structure, emt):
    task = completed_task(owner, cu_structure, emt, "optimization")
    prov = task.result["provenance"]
    assert prov["step_unit"] == FORCE_EVALUATIONS and prov["engine"] == "ase"
    # one evaluation per optimiser step, plus the starting point
    assert prov["steps"] >= task.result["steps"] + 1
    assert prov["atom_steps"] == 4 * prov["steps"]  # the 4-atom cell at every evaluation
    assert 0 < prov["run_time_s"] <= prov["wall_time_s"]
    assert prov["steps_per_s"] == pytest.approx(prov["steps"] / prov["run_time_s"])
    assert prov["atom_steps_per_s"] == pytest.approx(4 * prov["steps_per_s"])
    assert prov["device"] == "cpu" and prov["gpu_name"] == ""


def epochs(atoms, calculator, params, report):
    for i in range(3):
        report.progress(i + 1, 3, loss=1.0 / (i + 1))
    return {"done": True}


@pytest.mark.django_db
def test_a_kind_without_a_calculator_counts_its_progress_steps(owner, run_inline, temp_kind):
    kind = temp_kind("tmp_epochs", epochs)
    task = run_inline(enqueue_task(owner=owner, kind=kind, params={}), device="cpu")
    prov = task.result["provenance"]
    assert (prov["steps"], prov["step_unit"], prov["atom_steps"], prov["atom_steps_per_s"]) == (3, PROGRESS_STEPS, None,
                                                                                                None)  # fmt: skip
    assert prov["steps_per_s"] > 0


def test_a_batched_engine_adds_its_own_evaluations_and_the_ase_record_is_not_counted_twice():
    counter = ForceCounter()
    for _ in range(10):
        counter.add([0] * 4)  # the pre-relaxation through the ASE calculator
    batched = {"engine": {"engine": "batched", "force_evaluations": 20, "atom_steps": 200}}
    record = speed_record(counter, batched, run_s=2.0, progress_steps=5)
    assert (record["steps"], record["atom_steps"], record["engine"]) == (30, 240, "batched")
    assert (record["steps_per_s"], record["atom_steps_per_s"]) == (15.0, 120.0)
    ase = {"engine": {"engine": "ase", "force_evaluations": 10, "atom_steps": 40}}  # the hook counted these
    assert speed_record(counter, ase, run_s=2.0, progress_steps=5)["steps"] == 10


@pytest.mark.django_db
def test_a_repeated_task_on_the_cached_calculator_still_counts_its_own_evaluations(owner, cu_structure, emt):
    """The model cache shares one calculator: the same atoms again must not read its last results."""
    first = completed_task(owner, cu_structure, emt, "single_point")
    again = completed_task(owner, cu_structure, emt, "single_point")
    for task in (first, again):
        prov = task.result["provenance"]
        assert (prov["steps"], prov["atom_steps"], prov["step_unit"]) == (1, 4, FORCE_EVALUATIONS)


@pytest.mark.django_db
def test_the_result_view_shows_the_speed_of_every_kind(owner_client, owner, cu_structure, emt):
    task = completed_task(owner, cu_structure, emt, "single_point")
    body = owner_client.get(reverse("tasks_app:task_detail", args=[task.pk])).content.decode()
    assert 'id="result-speed"' in body
    for text in ("force evaluations", "steps/s", "atoms·steps/s", 'data-key="provenance.device"'):
        assert text in body, text


def row(name, rate, steps_rate, device="cpu", gpu=""):
    prov = {"wall_time_s": 1.0, "steps_per_s": steps_rate, "atom_steps_per_s": rate, "device": device, "gpu_name": gpu}
    return {"task_id": name, "structure": name, "n_atoms": 10, "input_volume_a3": 1.0, "reference": {},
            "status": "COMPLETED", "result": {"provenance": prov}, "error": "", "wall_time_s": 1.0,
            "progress_step": 0}  # fmt: skip


def test_benchmark_reports_show_steps_per_second_and_compare_speed_only_on_one_device():
    def entry(name, records):
        rows = report.build_rows(records)
        return {"run": {"id": name}, "rows": rows, "summary": report.summarize(rows, "single_point")}

    a = entry("A", [row("s1", 100.0, 10.0), row("s2", 300.0, 30.0), row("s3", 5000.0, 500.0, "cuda", "NVIDIA H200")])
    b = entry("B", [row("s1", 400.0, 40.0), row("s2", 400.0, 40.0)])
    labels = [c.label for c in table.columns_for("single_point", a["rows"])]
    assert {"steps/s", "atoms·steps/s", "Device"} <= set(labels)
    speed = report.compare("single_point", [a, b])["speed"]
    by_device = {d["device"]: d for d in speed["devices"]}
    assert by_device["cpu"]["values"] == [200.0, 400.0] and by_device["cpu"]["ratios"] == [1.0, 2.0]
    assert by_device["NVIDIA H200"]["values"] == [5000.0, None]
    assert by_device["NVIDIA H200"]["ratios"] == [None, None]  # one run on that device: nothing to compare
    assert "same device" in speed["note"]


@pytest.mark.django_db
def test_the_model_page_shows_measured_speed_per_task_type_and_device(owner_client, owner, cu_structure, emt):
    page = reverse("models_app:model_detail", args=["emt"])
    assert "No completed tasks with emt yet" in owner_client.get(page).content.decode()
    task = completed_task(owner, cu_structure, emt, "single_point")
    body = owner_client.get(page).content.decode()
    assert 'id="model-speed"' in body and "<td>single_point</td><td>cpu</td>" in body
    rate = task.result["provenance"]["atom_steps_per_s"]
    assert f"{rate:.0f}" in body
