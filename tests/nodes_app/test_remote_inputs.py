"""Task inputs over HTTP for nodes on other machines (nodes_app.api.inputs, tasks_app.inputs).

A node may fetch a structure or a model file only while a task that needs it is ASSIGNED or
RUNNING on that node; everything else is 404 (or 401 without a valid token). The end-to-end
test runs a real worker acting as a remote node whose downloads go to a cache directory of its
own (``MOFSIM_NODE_CACHE_DIR``), so the task can only succeed if the inputs came over HTTP.
"""

import hashlib
import shutil

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from models_app.models import MLModel
from mofsim_site.files import file_chunks, stage_upload
from nodes_app.services import register_local_node
from tasks_app import inputs
from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tasks_app.scheduler import claim_next_task
from tasks_app.services import enqueue_task
from tasks_app.state import transition
from tests.conftest import make_task, wait_for
from tests.mace_model import write_converted_mace


def register_model(path, name: str, family: str = "mace") -> MLModel:
    """A model row with its file under WORKDIR/models, as validation leaves it (validation skipped)."""
    staged = stage_upload(file_chunks(path), path.name, 10**9)
    final = staged.promote(settings.WORKDIR / "models")
    return MLModel.objects.create(
        name=name, family=family, source="upload", config={"default_dtype": "float64"},
        model_path=str(final.relative_to(settings.WORKDIR)), sha256=staged.sha256, size_bytes=staged.size,
    )  # fmt: skip


def node_get(url, name, token):
    return APIClient().get(url, HTTP_AUTHORIZATION=f"Node {token}", HTTP_X_NODE_NAME=name)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def model_file(tmp_path):
    path = tmp_path / "weights.model"
    path.write_bytes(b"not really a model, but bytes with a checksum" * 100)
    return path


@pytest.mark.django_db
class TestEndpoints:
    def test_a_node_fetches_the_structure_of_its_own_task(self, owner, cu_structure, emt):
        node, token = register_local_node("remote-a")
        make_task(owner, cu_structure, emt)
        claimed = claim_next_task(node)
        url = f"/api/v1/nodes/inputs/structures/{cu_structure.pk}"
        cu_structure.processed_path.unlink()  # the server writes it again when it is missing

        for status in (TaskStatus.ASSIGNED, TaskStatus.RUNNING):
            if status == TaskStatus.RUNNING:
                transition(claimed, TaskStatus.RUNNING)
            response = node_get(url, node.name, token)
            assert response.status_code == 200, status
            data = body_of(response)
            assert data == cu_structure.processed_path.read_bytes()
            assert response["X-Content-SHA256"] == hashlib.sha256(data).hexdigest()
            assert data.startswith(b"4\n")  # extXYZ of the 4-atom Cu cell

        transition(claimed, TaskStatus.CANCELLED)
        assert node_get(url, node.name, token).status_code == 404  # finished: no longer needed

    def test_other_nodes_unclaimed_tasks_and_unknown_ids_get_404(self, owner, cu_structure, emt):
        node, token = register_local_node("remote-a")
        other, other_token = register_local_node("remote-b")
        url = f"/api/v1/nodes/inputs/structures/{cu_structure.pk}"
        make_task(owner, cu_structure, emt)
        assert node_get(url, node.name, token).status_code == 404  # QUEUED, not yet on this node
        claim_next_task(other)
        response = node_get(url, node.name, token)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert node_get(url, other.name, other_token).status_code == 200
        assert node_get("/api/v1/nodes/inputs/structures/999999", other.name, other_token).status_code == 404

    def test_a_bad_or_missing_token_is_401(self, owner, cu_structure, emt):
        node, _ = register_local_node("remote-a")
        make_task(owner, cu_structure, emt)
        claim_next_task(node)
        url = f"/api/v1/nodes/inputs/structures/{cu_structure.pk}"
        assert node_get(url, node.name, "not-the-token").status_code == 401
        assert APIClient().get(url).status_code == 401
        assert node_get(f"/api/v1/nodes/inputs/models/{'x'}", node.name, "nope").status_code == 401

    def test_a_user_cannot_use_the_node_endpoints(self, owner, operator, cu_structure, emt):
        node, _ = register_local_node("remote-a")
        make_task(owner, cu_structure, emt)
        claim_next_task(node)
        client = APIClient()
        client.force_authenticate(operator)
        assert client.get(f"/api/v1/nodes/inputs/structures/{cu_structure.pk}").status_code in (401, 403)

    def test_a_node_fetches_the_model_file_of_its_task(self, owner, cu_structure, model_file):
        model = register_model(model_file, "remote-mace")
        node, token = register_local_node("remote-a")
        other, other_token = register_local_node("remote-b")
        url = "/api/v1/nodes/inputs/models/remote-mace"
        make_task(owner, cu_structure, model)
        assert node_get(url, node.name, token).status_code == 404
        claim_next_task(node)
        response = node_get(url, node.name, token)
        assert response.status_code == 200
        data = body_of(response)
        assert data == model_file.read_bytes()
        assert response["X-Content-SHA256"] == model.sha256 == hashlib.sha256(data).hexdigest()
        assert node_get(url, other.name, other_token).status_code == 404

    def test_the_base_model_of_a_fine_tuning_job_is_fetchable(self, owner, model_file):
        register_model(model_file, "base-mace")
        node, token = register_local_node("remote-a")
        enqueue_task(owner=owner, kind="train_mace", params={"base_model": "base-mace"})
        claim_next_task(node)
        assert node_get("/api/v1/nodes/inputs/models/base-mace", node.name, token).status_code == 200
        assert node_get("/api/v1/nodes/inputs/models/other-mace", node.name, token).status_code == 404

    def test_a_model_without_a_file_is_404(self, owner, cu_structure, emt):
        node, token = register_local_node("remote-a")
        make_task(owner, cu_structure, emt)
        claim_next_task(node)
        assert node_get("/api/v1/nodes/inputs/models/emt", node.name, token).status_code == 404


@pytest.mark.django_db
def test_without_a_server_url_the_worker_reads_the_shared_workdir(monkeypatch, cu_structure, model_file):
    """The single-machine default: nothing is fetched, the spec and the structure stay as they are."""
    monkeypatch.delenv("MOFSIM_SERVER_URL", raising=False)
    model = register_model(model_file, "local-mace")
    assert inputs.ensure_local_structure(cu_structure) is None
    spec = model.spec()
    assert inputs.ensure_local_model(spec) is spec


@pytest.fixture
def remote_node(live_server, monkeypatch, tmp_path):
    """This process acts as a node on another machine: server URL, node token, its own cache."""
    from tasks_app import worker_context

    node, token = register_local_node("gpu-remote-0", device="cpu")
    cache = tmp_path / "node-cache"
    monkeypatch.setenv("MOFSIM_SERVER_URL", live_server.url)
    monkeypatch.setenv("MOFSIM_NODE_NAME", node.name)
    monkeypatch.setenv("MOFSIM_NODE_TOKEN", token)
    monkeypatch.setenv("MOFSIM_NODE_CACHE_DIR", str(cache))
    worker_context.configure(node, "cpu")
    yield node, cache
    worker_context.configure(None, None)


@pytest.mark.django_db(transaction=True)
def test_a_download_is_checked_and_never_leaves_a_partial_file(owner, cu_structure, model_file, remote_node):
    node, cache = remote_node
    model = register_model(model_file, "remote-mace")
    task = make_task(owner, cu_structure, model)
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.RUNNING, node=node)

    wrong = {**model.spec(), "sha256": "0" * 64}
    with pytest.raises(inputs.InputUnavailable, match="SHA-256"):
        inputs.ensure_local_model(wrong)
    assert not any(p.is_file() for p in cache.rglob("*"))  # neither the file nor a .part

    local = inputs.ensure_local_model(model.spec())
    assert local["model_path"] == str(cache / model.model_path)
    assert local["sha256"] == model.sha256
    assert hashlib.sha256((cache / model.model_path).read_bytes()).hexdigest() == model.sha256

    path = inputs.ensure_local_structure(cu_structure)
    assert path == cache / "processed" / f"{cu_structure.sha256}.extxyz"
    assert path.read_bytes() == cu_structure.processed_path.read_bytes()

    # The runner reads the node's copy: a file already in the cache is used as it is, no download.
    from ase.build import bulk
    from ase.io import write

    from tasks_app.runner import load_structure

    write(path, bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 1, 1)), format="extxyz")
    assert len(load_structure(task)) == 8 and len(cu_structure.read_atoms()) == 4

    Task.objects.filter(pk=task.pk).update(status=TaskStatus.COMPLETED)
    shutil.rmtree(cache)
    with pytest.raises(inputs.InputUnavailable, match="HTTP 404"):
        inputs.ensure_local_structure(cu_structure)


@pytest.mark.django_db(transaction=True)
def test_a_remote_worker_runs_a_task_with_inputs_fetched_over_http(api, cu_structure, remote_node, worker, tmp_path):
    node, cache = remote_node
    model = register_model(write_converted_mace(tmp_path / "tiny.safetensors"), "tiny-mace")
    response = api.post(
        "/api/v1/tasks/single_point",
        {"structure": cu_structure.pk, "model": model.name, "preset": "quick"},
        format="json",
    )
    assert response.status_code == 201, response.content
    task_id = response.json()["id"]
    body = wait_for(
        lambda: (b := api.get(f"/api/v1/tasks/{task_id}/").json())["status"] in ("COMPLETED", "FAILED") and b,
        timeout=120,
    )
    assert body["status"] == "COMPLETED", body.get("error")
    assert body["node"] == node.name

    local_structure = cache / "processed" / f"{cu_structure.sha256}.extxyz"
    local_model = cache / model.model_path
    assert local_structure.read_bytes() == cu_structure.processed_path.read_bytes()
    assert hashlib.sha256(local_model.read_bytes()).hexdigest() == model.sha256
    result = api.get(f"/api/v1/tasks/{task_id}/result/").json()["result"]
    assert result["provenance"]["model"]["sha256"] == model.sha256
    assert result["provenance"]["node"] == node.name


@pytest.mark.django_db(transaction=True)
def test_a_remote_fine_tuning_job_gets_its_base_model_from_the_server(owner, model_file, remote_node, monkeypatch):
    """``train_mace`` with ``base_model`` resolves the file through the node cache, not WORKDIR.

    The worker's ``prepare`` step resolves it (the executor itself is plain Python) and the
    executor trains from the path it was given."""
    from models_app.training import jobs, mace_ft, steps
    from mofsim_site.executors import Reporter

    node, cache = remote_node
    model = register_model(model_file, "base-mace")
    task = enqueue_task(owner=owner, kind="train_mace", params={"base_model": "base-mace"})
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.RUNNING, node=node)
    seen = {}

    def fake_train(data, params, outdir, report, device="cpu", base_model_path=None):
        seen["path"] = base_model_path
        raise RuntimeError("stop after staging")

    monkeypatch.setattr(mace_ft, "train_mace", fake_train)
    report = Reporter(settings.WORKDIR / "artifacts" / str(task.pk))
    with pytest.raises(RuntimeError, match="stop after staging"):
        params = steps.prepare_job(task, {"base_model": "base-mace", "data": {"structures": None}}, "cpu")
        jobs.run_train_mace(None, None, params, report)
    assert seen["path"] == str(cache / model.model_path)
    assert (cache / model.model_path).read_bytes() == model_file.read_bytes()
