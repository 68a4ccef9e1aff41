"""The SDK against a live server (HTTP) and a real worker: upload, submit, wait, result, download."""

import hashlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sdk"))

from mofsim_client import Client, MofsimError  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_runs_a_task_end_to_end(live_server, owner, emt, worker, cu_cif, tmp_path):
    client = Client(live_server.url, "owner", "owner-pass-123")
    structure = client.upload_structure(cu_cif, name="Cu")
    assert structure["formula"] == "Cu4"
    task = client.submit("single_point", structure["id"], model="emt")
    done = client.wait(task["id"], timeout=60, poll=0.2)
    assert done["status"] == "COMPLETED"
    assert client.result(task["id"])["n_atoms"] == 4
    names = {a["name"]: a for a in client.artifacts(task["id"])}
    path = client.download(task["id"], "result.json", tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == names["result.json"]["sha256"]
    assert any("E = " in line["message"] for line in client.logs(task["id"]))
    again = client.rerun(task["id"])
    assert again["id"] != task["id"] and again["kind"] == "single_point" and again["params"] == done["params"]
    assert client.wait(again["id"], timeout=60, poll=0.2)["status"] == "COMPLETED"


def test_it_raises_the_api_error(live_server, owner):
    client = Client(live_server.url, "owner", "owner-pass-123")
    with pytest.raises(MofsimError) as info:
        client.submit("optimization", 999_999, model="emt")
    assert info.value.status == 400 and info.value.code == "invalid" and info.value.request_id
    with pytest.raises(MofsimError) as info:
        Client(live_server.url, "owner", "wrong")
    assert info.value.status == 401


def test_it_refreshes_an_expired_access_token(live_server, owner):
    client = Client(live_server.url, "owner", "owner-pass-123")
    client._access = "expired.or.garbage"
    assert client.tasks() == []  # 401 -> refresh -> retried


def test_it_keeps_the_rotated_refresh_token(live_server, owner):
    """Refresh tokens rotate (the used one is blacklisted): the SDK must switch to the new one."""
    client = Client(live_server.url, "owner", "owner-pass-123")
    client._password = "not-the-password"  # so a fallback to login() would fail
    for _ in range(2):
        client._access = "expired.or.garbage"
        assert client.tasks() == []
