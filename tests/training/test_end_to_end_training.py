"""Upload FASTA + CSV → job → real worker on another "machine" → artifacts back over HTTP.

The worker gets ``MOFSIM_SERVER_URL`` (a live server) and a node token, so it fetches the data
through the signed URL and uploads every artifact with ``POST /api/v1/jobs/{id}/artifacts`` —
the code path of a node without a shared disk. The trainer writes into a scratch directory, so
the files can reach ``artifacts/<id>/`` only through that upload.
"""

import hashlib

import pytest

from nodes_app.services import register_local_node
from tests.conftest import wait_for
from tests.training.conftest import upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def remote_node(live_server, monkeypatch):
    from tasks_app import worker_context

    node, token = register_local_node("gpu-remote-0", device="cpu")
    monkeypatch.setenv("MOFSIM_SERVER_URL", live_server.url)
    monkeypatch.setenv("MOFSIM_NODE_NAME", node.name)
    monkeypatch.setenv("MOFSIM_NODE_TOKEN", token)
    worker_context.configure(node, "cpu")
    yield node
    worker_context.configure(None, None)


def test_it_trains_through_signed_urls_and_artifact_uploads(api, dms_files, remote_node, worker):
    fasta = upload(api, dms_files["fasta"]).json()
    table = upload(api, dms_files["csv"]).json()
    r = api.post(
        "/api/v1/jobs",
        {"dataset": table["id"], "wild_type": fasta["id"], "epochs": 3, "lr": 3e-3, "notes": "e2e"},
        format="json",
    )
    assert r.status_code == 201, r.content
    job_id = r.json()["id"]
    body = wait_for(
        lambda: (b := api.get(f"/api/v1/jobs/{job_id}/").json())["status"] in ("COMPLETED", "FAILED") and b,
        timeout=120,
    )
    assert body["status"] == "COMPLETED", body["error"]
    assert body["node"] == "gpu-remote-0"
    result = api.get(f"/api/v1/tasks/{job_id}/result/").json()["result"]
    assert result["transfer"] == "http"
    logs = " ".join(line["message"] for line in api.get(f"/api/v1/tasks/{job_id}/logs/").json()["results"])
    assert "via signed URL" in logs and "by upload" in logs

    listed = {a["name"]: a for a in api.get(f"/api/v1/jobs/{job_id}/artifacts").json()}
    expected = {"model.pth", "metrics.json", "train.log", "plan.json", "splits.csv", "predictions.csv"}
    assert expected <= set(listed)
    for name in expected:
        download = api.get(f"/api/v1/jobs/{job_id}/artifacts/{name}")
        assert download.status_code == 200
        data = b"".join(download.streaming_content)
        sha = hashlib.sha256(data).hexdigest()
        assert sha == listed[name]["sha256"] == result["artifacts"][name]["sha256"], name
        assert len(data) == listed[name]["size_bytes"]
