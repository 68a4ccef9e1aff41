"""ETA before submit (tasks_app.eta): measured speed per model/device/kind scaled per atom, the
documented default without measurements, and the wait behind the queue — from real rows."""

from datetime import timedelta

import pytest
from ase.build import bulk
from ase.io import write
from django.utils import timezone

from nodes_app.choices import NodeStatus
from nodes_app.models import WorkerNode
from tasks_app import eta
from tasks_app.choices import Priority, TaskStatus
from tasks_app.models import Task
from tasks_app.params import validate_params

pytestmark = pytest.mark.django_db
H200 = "NVIDIA H200"


@pytest.fixture
def big_structure(tmp_path, owner):
    """A 32-atom Cu cell (the 4-atom ``cu_structure`` × 8)."""
    from structures_app.services import store_path

    path = tmp_path / "Cu32.cif"
    write(path, bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2))
    return store_path(path, owner=owner, project=owner.username, name="Cu-32")


@pytest.fixture
def quick():
    return validate_params("single_point", {}, "quick")


def completed(owner, model, structure, wall, params, gpu="", kind="single_point"):
    """A finished task as the runner records it (only what the estimate reads)."""
    provenance = {"wall_time_s": wall, "device": "cuda" if gpu else "cpu", "gpu_name": gpu}
    return Task.objects.create(owner=owner, kind=kind, model=model, structure=structure, params=params,
                               status=TaskStatus.COMPLETED, result={"energy_ev": -1.0, "provenance": provenance},
                               finished_at=timezone.now())  # fmt: skip


def queued(owner, model, structure, params, priority=Priority.NORMAL, status=TaskStatus.QUEUED, node=None):
    now = timezone.now()
    return Task.objects.create(owner=owner, kind="single_point", model=model, structure=structure, params=params,
                               status=status, priority=priority, queued_at=now, node=node,
                               started_at=now - timedelta(seconds=5) if node else None)  # fmt: skip


def node(name, families=("emt",), gpu=""):
    return WorkerNode.objects.create(name=name, status=NodeStatus.ONLINE, enabled=True, families=list(families),
                                     device="cuda" if gpu else "cpu", gpu_name=gpu)  # fmt: skip


def test_it_says_no_measurements_yet_and_uses_the_documented_default(owner, emt, cu_structure, quick):
    node("cpu-0")
    est = eta.estimate(kind="single_point", model=emt, structures=[cu_structure], params=quick, priority=0)
    assert est.source == eta.DEFAULT and est.n_samples == 0
    assert est.run_s == eta.DEFAULT_SECONDS_PER_ATOM * 4
    assert est.wait_s == 0 and est.tasks_ahead == 0
    assert "no measurements yet" in est.text and "on cpu" in est.text


def test_it_scales_the_median_per_atom_speed_of_the_same_model_device_and_parameters(
    owner, emt, cu_structure, big_structure, quick
):
    node("cpu-0")
    for wall in (8.0, 12.0, 10.0):  # 2.0, 3.0, 2.5 s per atom on the 4-atom cell
        completed(owner, emt, cu_structure, wall, quick)
    completed(owner, emt, cu_structure, 1.0, quick, gpu=H200)  # another device: not used
    completed(owner, emt, cu_structure, 400.0, {**quick, "d3": True})  # other parameters: not used
    completed(owner, emt, cu_structure, 40.0, quick, kind="optimization")  # another kind: not used
    est = eta.estimate(kind="single_point", model=emt, structures=[big_structure], params=quick, priority=0)
    assert (est.source, est.n_samples, est.device) == (eta.SAME_PARAMS, 3, "cpu")
    assert est.run_s == pytest.approx(2.5 * 32)
    assert est.as_dict()["total_s"] == pytest.approx(80.0)
    assert "from 3 completed tasks on cpu (same parameters)" in est.text

    other = validate_params("single_point", {"compute_stress": False}, "quick")
    fallback = eta.estimate(kind="single_point", model=emt, structures=[big_structure], params=other, priority=0)
    assert (fallback.source, fallback.n_samples) == (eta.OTHER_PARAMS, 4)  # every cpu sample, any parameters


def test_it_estimates_on_the_device_kind_of_the_online_workers(owner, emt, cu_structure, quick):
    node("gpu-0", gpu=H200)
    completed(owner, emt, cu_structure, 10.0, quick)
    completed(owner, emt, cu_structure, 0.4, quick, gpu=H200)
    est = eta.estimate(kind="single_point", model=emt, structures=[cu_structure], params=quick, priority=0)
    assert est.device == H200 and est.n_samples == 1
    assert est.run_s == pytest.approx(0.4)


def test_the_wait_counts_tasks_ahead_that_the_capable_workers_run(owner, emt, builtin_models, cu_structure, quick):
    worker = node("cpu-0")
    node("other-family", families=("sevennet",))  # cannot run EMT: not a capable worker
    completed(owner, emt, cu_structure, 10.0, quick)  # 2.5 s per atom
    queued(owner, emt, cu_structure, quick)
    queued(owner, emt, cu_structure, quick, priority=Priority.HIGH)
    queued(owner, emt, cu_structure, quick, priority=Priority.LOW)  # behind a NORMAL task
    queued(owner, builtin_models["sevennet-0"], cu_structure, quick)  # only the other family runs it
    queued(owner, emt, cu_structure, quick, status=TaskStatus.RUNNING, node=worker)  # 10 s, 5 s done
    est = eta.estimate(kind="single_point", model=emt, structures=[cu_structure], params=quick,
                       priority=Priority.NORMAL)  # fmt: skip
    assert est.workers == 1 and est.tasks_ahead == 2
    assert est.wait_s == pytest.approx(2 * 10.0 + 5.0, abs=0.5)
    assert est.total_s == pytest.approx(est.wait_s + 10.0)
    assert "2 tasks ahead" in est.text

    node("cpu-1")  # a second capable worker halves the wait
    twice = eta.estimate(kind="single_point", model=emt, structures=[cu_structure], params=quick,
                         priority=Priority.NORMAL)  # fmt: skip
    assert twice.wait_s == pytest.approx(est.wait_s / 2, abs=0.5)


def test_a_run_spreads_its_tasks_over_the_workers(owner, emt, cu_structure, big_structure, quick):
    node("cpu-0")
    node("cpu-1")
    completed(owner, emt, cu_structure, 4.0, quick)  # 1 s per atom
    est = eta.estimate(kind="single_point", model=emt, structures=[cu_structure, big_structure], params=quick,
                       priority=0)  # fmt: skip
    assert est.n_tasks == 2 and est.run_s == pytest.approx(36.0)
    assert est.total_s == pytest.approx(18.0)


def test_without_a_capable_worker_online_there_is_no_wait_estimate(owner, emt, cu_structure, quick):
    WorkerNode.objects.create(name="down", status=NodeStatus.OFFLINE, families=["emt"])
    completed(owner, emt, cu_structure, 8.0, quick, gpu=H200)
    est = eta.estimate(kind="single_point", model=emt, structures=[cu_structure], params=quick, priority=0)
    assert est.wait_s is None and est.total_s is None and est.workers == 0
    assert est.device == H200  # the device measured most often
    assert "no online worker can run it now" in est.text


def test_the_task_estimate_endpoint_takes_a_submit_body_and_creates_nothing(api, emt, cu_structure, quick):
    completed(cu_structure.owner, emt, cu_structure, 6.0, quick)
    before = Task.objects.count()
    body = {"structure": cu_structure.pk, "model": "emt", "preset": "quick"}
    response = api.post("/api/v1/tasks/single_point/estimate/", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert Task.objects.count() == before
    assert data["n_samples"] == 1 and data["source"] == eta.SAME_PARAMS and data["run_s"] == pytest.approx(6.0)
    assert data["wait_s"] is None and "no online worker" in data["text"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "emt"}, "structure"),
        ({"structure": -1, "model": "emt"}, "structure"),
        ({"model": "no-such-model"}, "model"),
        ({"params": {"fmax": "x"}, "model": "emt"}, "params"),
        ({"model": "emt", "preset": "slow"}, "preset"),
    ],  # fmt: skip
)
def test_the_task_estimate_names_the_bad_field(api, emt, cu_structure, body, field):
    if field != "structure":
        body = {"structure": cu_structure.pk, **body}
    response = api.post("/api/v1/tasks/single_point/estimate/", body, format="json")
    assert response.status_code == 400
    assert field in str(response.json()), response.json()


def test_estimates_need_a_login(cu_structure, emt):
    from tests.conftest import client_for

    anonymous = client_for(None)
    body = {"structure": cu_structure.pk, "model": "emt"}
    assert anonymous.post("/api/v1/tasks/single_point/estimate/", body, format="json").status_code in (401, 403)
    bench = {"kind": "single_point", "structures": [cu_structure.pk]}
    assert anonymous.post("/api/v1/benchmarks/estimate/", bench, format="json").status_code in (401, 403)


def test_the_benchmark_estimate_endpoint(api, owner, emt, cu_structure, big_structure, quick):
    node("cpu-0")
    completed(owner, emt, cu_structure, 4.0, quick)
    structures = [cu_structure.pk, big_structure.pk]
    body = {"kind": "single_point", "model": "emt", "preset": "quick", "structures": structures}
    response = api.post("/api/v1/benchmarks/estimate/", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["n_tasks"] == 2 and data["run_s"] == pytest.approx(36.0) and data["workers"] == 1
    assert not Task.objects.filter(status=TaskStatus.QUEUED).exists()

    bad = api.post("/api/v1/benchmarks/estimate/", {**body, "kind": "train_mace"}, format="json")
    assert bad.status_code == 400 and "kind" in bad.json()["details"], bad.json()


def test_the_task_form_check_shows_the_estimate(owner_client, owner, emt, cu_structure, quick):
    from django.urls import reverse

    node("cpu-0")
    url = reverse("tasks_app:task_validate")
    data = {"kind": "single_point", "structure": cu_structure.pk, "model": "emt", "preset": "quick", "priority": 1}
    body = owner_client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="form-estimate"' in body and "no measurements yet" in body and 'data-samples="0"' in body
    for wall in (120.0, 240.0):
        completed(owner, emt, cu_structure, wall, quick)
    queued(owner, emt, cu_structure, quick)
    body = owner_client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert "about 6 min, 1 task ahead" in body and "from 2 completed tasks on cpu (same parameters)" in body


def test_the_benchmark_form_shows_the_estimate_or_the_bad_field(owner_client, owner, emt, cu_structure, quick):
    from django.urls import reverse

    node("cpu-0")
    completed(owner, emt, cu_structure, 30.0, quick)
    url = reverse("tasks_app:benchmark_estimate")
    data = {"kind": "single_point", "model": "emt", "structures": [cu_structure.pk], "preset": "quick",
            "priority": 1, "params": ""}  # fmt: skip
    body = owner_client.post(url, data, HTTP_HX_REQUEST="true").content.decode()
    assert "about 30 s, 0 tasks ahead" in body and 'data-samples="1"' in body
    assert not Task.objects.filter(status=TaskStatus.QUEUED).exists()
    body = owner_client.post(url, {**data, "params": '{"fmax": 1}'}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="form-check-errors"' in body and "fmax" in body
    assert 'hx-post="' + url in owner_client.get(reverse("tasks_app:benchmark_create")).content.decode()


def test_enqueue_benchmark_prints_the_estimate_before_it_submits(owner, emt, cu_structure, quick):
    import io

    from django.core.management import call_command

    node("cpu-0")
    completed(owner, emt, cu_structure, 30.0, quick)
    out = io.StringIO()
    call_command("enqueue_benchmark", "single_point", "--structures", "Cu-fcc", "--model", "emt", "--preset", "quick",
                 "--user", "owner", stdout=out)  # fmt: skip
    lines = out.getvalue().splitlines()
    assert lines[0] == "estimate: about 30 s, 0 tasks ahead — from 1 completed task on cpu (same parameters)"
    assert lines[1].startswith("benchmark run ")
