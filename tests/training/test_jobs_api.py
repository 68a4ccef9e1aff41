"""Job submission checks, the signed data URL and the node-only artifact upload."""

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient

from models_app.training.dispatch import data_url, sign
from nodes_app.services import register_local_node
from tasks_app.models import Task
from tasks_app.state import transition
from tests.conftest import client_for
from tests.training.conftest import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def datasets(api, dms_files):
    return {"fasta": upload(api, dms_files["fasta"]).json(), "table": upload(api, dms_files["csv"]).json()}


def post(api, **body):
    return api.post("/api/v1/jobs", body, format="json")


@pytest.mark.parametrize("path", ["/etc/passwd", "../../etc/passwd", "raw/../../outside.csv"])
def test_it_rejects_data_paths_outside_workdir(api, datasets, path):
    r = post(api, data_path=path, wild_type=datasets["fasta"]["id"])
    assert r.status_code == 400
    assert r.json()["details"]["data_path"] == ["data_path must resolve inside WORKDIR"]


def test_it_rejects_workdir_files_that_are_not_the_users_datasets(api, datasets):
    for path in ("secret_key", "db.sqlite3", str(settings.WORKDIR / "secret_key")):
        r = post(api, data_path=path, wild_type=datasets["fasta"]["id"])
        assert r.status_code == 400 and "no dataset of yours" in r.json()["message"]


def test_it_rejects_another_users_dataset(outsider, datasets):
    r = post(client_for(outsider), data_path=datasets["table"]["path"])
    assert r.status_code == 400 and "no dataset of yours" in r.json()["message"]


def test_it_checks_plan_keys_kinds_and_wild_type(api, datasets):
    r = post(api, data_path=datasets["table"]["path"], wild_type=datasets["fasta"]["id"], plan={"train.lrr": 1})
    assert r.status_code == 400 and "unknown key(s) train.lrr" in r.json()["message"]
    r = post(api, data_path=datasets["table"]["path"], wild_type=datasets["fasta"]["id"], plan={"split.strategy": "x"})
    assert r.status_code == 400 and "split" in r.json()["details"]
    r = post(api, data_path=datasets["table"]["path"])
    assert r.status_code == 400 and "wild-type FASTA" in r.json()["message"]
    r = post(api, data_path=datasets["fasta"]["path"])
    assert r.status_code == 400 and "needs dms" in r.json()["message"]
    r = post(api, data_path=datasets["table"]["path"], wild_type=datasets["fasta"]["id"], epochs=0)
    assert r.status_code == 400 and "epochs" in r.json()["details"]


def test_a_job_is_an_ordinary_queued_task(api, datasets):
    r = post(api, dataset=datasets["table"]["id"], wild_type=datasets["fasta"]["id"], priority="LOW", epochs=2)
    assert r.status_code == 201, r.content
    task = Task.objects.get(pk=r.json()["id"])
    assert (task.kind, task.status, task.priority) == ("train_dms", "QUEUED", 0)
    assert task.params["data"]["scores"]["sha256"] == datasets["table"]["sha256"]
    assert api.post(f"/api/v1/tasks/{task.pk}/cancel/").json()["status"] == "CANCELLED"
    assert [j["id"] for j in api.get("/api/v1/jobs").json()["results"]] == [str(task.pk)]


@pytest.fixture
def running_job(api, datasets):
    task = Task.objects.get(
        pk=post(api, dataset=datasets["table"]["id"], wild_type=datasets["fasta"]["id"]).json()["id"]
    )
    transition(task, "ASSIGNED")
    transition(task, "RUNNING")
    return task


def lease_header(task) -> dict:
    task.refresh_from_db()
    return {"HTTP_X_MOFSIM_LEASE": str(task.lease_token)}


def test_the_signed_data_url_serves_the_jobs_input_until_it_expires(running_job, datasets):
    anonymous = APIClient()
    url = data_url("", datasets["table"]["id"], running_job.pk)
    r = anonymous.get(url)
    assert r.status_code == 200
    assert b"".join(r.streaming_content) == (settings.WORKDIR / datasets["table"]["path"]).read_bytes()
    assert anonymous.get(url[:-3] + "abc").status_code == 403
    other = sign("00000000-0000-0000-0000-000000000000", running_job.pk)
    assert anonymous.get(f"/api/v1/jobs/data/{other}").status_code == 403
    with override_settings(TRAINING_DATA_URL_MAX_AGE_S=-1):
        r = anonymous.get(url)
        assert r.status_code == 403 and "expired" in r.json()["message"]
    transition(running_job, "COMPLETED")
    assert anonymous.get(url).status_code == 403


def test_artifact_upload_needs_a_node_token_and_a_running_job(running_job):
    node, token = register_local_node("node-a")
    client = APIClient()
    url = f"/api/v1/jobs/{running_job.pk}/artifacts"

    def send(headers, content=b"hello", sha=None):
        f = SimpleUploadedFile("../notes.txt", content)
        return client.post(url, {"file": f, **({"sha256": sha} if sha else {})}, format="multipart", **headers)

    assert send({}).status_code in (401, 403)
    assert send({"HTTP_AUTHORIZATION": "Node wrong", "HTTP_X_NODE_NAME": "node-a"}).status_code == 401
    good = {"HTTP_AUTHORIZATION": f"Node {token}", "HTTP_X_NODE_NAME": "node-a", **lease_header(running_job)}
    assert send(good).status_code == 403  # running, but claimed by no node: not this node's job
    Task.objects.filter(pk=running_job.pk).update(node=node)
    assert send(good, sha="0" * 64).status_code == 400
    r = send(good)
    assert r.status_code == 201, r.content
    assert r.json()["name"] == "notes.txt"
    stored = settings.WORKDIR / "artifacts" / str(running_job.pk) / f"a{running_job.attempts}" / "notes.txt"
    assert stored.read_bytes() == b"hello"
    stale = {**good, "HTTP_X_MOFSIM_LEASE": "00000000-0000-0000-0000-000000000000"}
    assert send(stale).status_code == 409  # an attempt that lost the lease cannot add files
    Task.objects.filter(pk=running_job.pk).update(node=register_local_node("node-b")[0])
    assert send(good).status_code == 403
    Task.objects.filter(pk=running_job.pk).update(node=node)
    transition(running_job, "COMPLETED")
    assert send(good).status_code == 409


def test_a_node_uploading_a_trained_model_only_queues_it_for_the_sandbox(running_job, tmp_path):
    """Issue 10: a node token registered whatever it uploaded as model.model; now it waits for
    the service worker's sandboxed conversion and no task can use it until then."""
    from models_app.models import MLModel
    from tests.mace_model import write_tiny_mace

    node, token = register_local_node("node-a")
    Task.objects.filter(pk=running_job.pk).update(node=node, kind="train_mace", params={"model_name": "from-node"})
    payload = write_tiny_mace(tmp_path / "model.model").read_bytes()
    r = APIClient().post(
        f"/api/v1/jobs/{running_job.pk}/artifacts",
        {"file": SimpleUploadedFile("model.model", payload)},
        format="multipart",
        HTTP_AUTHORIZATION=f"Node {token}",
        HTTP_X_NODE_NAME="node-a",
        **lease_header(running_job),
    )
    assert r.status_code == 201, r.content
    assert r.json()["registered_model"]["validation_status"] == "pending"
    assert MLModel.objects.get(name="from-node").validation_status == "pending"
