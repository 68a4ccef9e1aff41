"""The SDK against a live server (HTTP) and a real worker: upload, submit, wait, stream, result,
download, batch, benchmarks, datasets and jobs, typed errors, JWT refresh and personal tokens."""

import asyncio
import csv
import hashlib
import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from mofsim_client import (
    AsyncClient,
    AuthenticationError,
    Client,
    Conflict,
    MofsimError,
    NotFound,
    Task,
    TaskTimeout,
    ValidationError,
)


def run_async(main):
    """asyncio.run in its own thread: run in the main thread, the later Channels tests
    (tests/tasks_app/test_consumers.py) hung in the same session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


pytestmark = pytest.mark.django_db(transaction=True)


def test_it_runs_a_task_end_to_end(live_server, owner, emt, worker, cu_cif, tmp_path):
    client = Client(live_server.url, "owner", "owner-pass-123")
    structure = client.upload_structure(cu_cif, name="Cu")
    assert structure["formula"] == "Cu4"
    task = client.submit("single_point", structure["id"], model="emt")
    assert isinstance(task, Task) and task["id"] == task.id
    done = client.wait(task["id"], timeout=60, poll=0.2)
    assert done["status"] == "COMPLETED"
    assert client.result(task["id"])["n_atoms"] == 4
    names = {a["name"]: a for a in client.artifacts(task["id"])}
    path = client.download(task["id"], "result.json", tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == names["result.json"]["sha256"]
    assert not list(tmp_path.glob("*.part"))
    assert any("E = " in line["message"] for line in client.logs(task["id"]))
    again = client.rerun(task["id"])
    assert again["id"] != task["id"] and again["kind"] == "single_point" and again["params"] == done["params"]
    assert again.wait(timeout=60, poll=0.2).status == "COMPLETED"


def test_the_task_object_streams_logs_while_a_worker_runs(live_server, owner, emt, worker, cu_structure):
    """stream_logs reads the SSE endpoint (tests/sdk/test_sse.py covers its polling fallback and
    resume) and must deliver every line exactly once, in order, and stop when the task ends."""
    client = Client(live_server.url, "owner", "owner-pass-123")
    task = client.submit("optimization", cu_structure.pk, model="emt", preset="quick")
    streamed = list(task.stream_logs(poll=0.1))
    task.refresh()
    assert task.done and task.status == "COMPLETED"
    stored = task.logs()
    assert [line["id"] for line in streamed] == [line["id"] for line in stored]
    assert len(stored) > 3
    # resuming after a line id gives exactly the rest
    middle = stored[len(stored) // 2]["id"]
    assert [x["id"] for x in task.stream_logs(after=middle)] == [x["id"] for x in stored if x["id"] > middle]


def test_it_submits_many_and_runs_a_benchmark_with_reports(live_server, owner, emt, worker, cu_structure):
    client = Client(live_server.url, "owner", "owner-pass-123")
    specs = [{"kind": "single_point", "structure": cu_structure.pk, "model": "emt"} for _ in range(2)]
    tasks = client.submit_many(specs)
    assert len({t.id for t in tasks}) == 2
    assert all(t.wait(timeout=60, poll=0.2).status == "COMPLETED" for t in tasks)
    with pytest.raises(ValueError):
        client.submit_many([{"kind": "single_point", "colour": "red"}])
    # The batch endpoint, not the one-by-one fallback: a bad item creates nothing at all.
    from tasks_app.models import Task as TaskRow

    with pytest.raises(ValidationError) as refused:
        client.submit_many([specs[0], {**specs[0], "structure": 999_999}])
    assert refused.value.details["tasks"] == [{"index": 1, "errors": {"structure": ["structure 999999 not found"]}}]
    assert TaskRow.objects.count() == 2

    # Estimates before submit, from the two tasks just measured; nothing is created.
    estimate = client.estimate("single_point", cu_structure.pk, model="emt")
    assert (estimate["n_samples"], estimate["source"]) == (2, "same parameters") and estimate["text"]
    ahead = client.estimate_benchmark("single_point", structures=[cu_structure.pk], model="emt")
    assert ahead["n_tasks"] == 1 and ahead["run_s"] == pytest.approx(estimate["run_s"])
    with pytest.raises(ValidationError) as bad:
        client.estimate("single_point", 999_999, model="emt")
    assert "structure" in bad.value.details
    assert TaskRow.objects.count() == 2

    run = client.create_benchmark("single_point", structures=[cu_structure.pk], model="emt", name="sdk")
    run_id = run["run"]["id"]
    final = client.wait_benchmark(run_id, timeout=60, poll=0.2)
    assert final["summary"]["completed"] == 1 and final["run"]["state"] == "COMPLETED"
    assert client.benchmark_report(run_id)["rows"][0]["status"] == "COMPLETED"
    rows = list(csv.DictReader(io.StringIO(client.benchmark_report(run_id, "csv"))))
    assert len(rows) == 1
    assert [r["id"] for r in client.benchmarks()] == [run_id]
    annotated = client.annotate_benchmark(run_id, notes="first SDK run", tags=["SDK", "emt"])
    assert (annotated["run"]["notes"], annotated["run"]["tags"]) == ("first SDK run", ["sdk", "emt"])
    assert [r["id"] for r in client.benchmarks(tag="sdk")] == [run_id] and client.benchmarks(tag="d3") == []


def test_it_cancels_and_submits_a_training_job(live_server, owner, cu_structure, emt, tmp_path):
    from tests.training.synthetic import make_dms

    client = Client(live_server.url, "owner", "owner-pass-123")
    task = client.submit("single_point", cu_structure.pk, model="emt")  # no worker: stays queued
    assert task.cancel().status == "CANCELLED"
    with pytest.raises(Conflict):
        task.cancel()
    with pytest.raises(TaskTimeout):
        client.submit("single_point", cu_structure.pk, model="emt").wait(timeout=0.3, poll=0.1)

    files = make_dms(tmp_path / "dms", length=12, n_doubles=0)
    fasta = client.upload_dataset(files["fasta"])
    dataset = client.upload_dataset(files["csv"], name="tiny dms")
    assert {d["id"] for d in client.datasets()} == {dataset["id"], fasta["id"]}
    assert client.dataset(dataset["id"])["name"] == "tiny dms"
    job = client.submit_job("train_dms", dataset=dataset["id"], wild_type=fasta["id"], epochs=1)
    assert job.kind == "train_dms" and [j.id for j in client.jobs()] == [job.id]
    assert job.cancel().status == "CANCELLED"


def test_it_raises_typed_api_errors(live_server, owner):
    client = Client(live_server.url, "owner", "owner-pass-123")
    with pytest.raises(ValidationError) as info:
        client.submit("optimization", 999_999, model="emt")
    assert info.value.status == 400 and info.value.code == "invalid" and info.value.request_id
    assert "structure" in info.value.details
    with pytest.raises(NotFound):
        client.task("00000000-0000-0000-0000-000000000000")
    with pytest.raises(AuthenticationError) as info:
        Client(live_server.url, "owner", "wrong")
    assert info.value.status == 401 and isinstance(info.value, MofsimError)


def test_it_refreshes_an_expired_access_token(live_server, owner):
    client = Client(live_server.url, "owner", "owner-pass-123")
    client._creds.access = "expired.or.garbage"
    assert client.tasks() == []  # 401 -> refresh -> retried


def test_it_keeps_the_rotated_refresh_token(live_server, owner):
    """Refresh tokens rotate (the used one is blacklisted): the SDK must switch to the new one."""
    client = Client(live_server.url, "owner", "owner-pass-123")
    client._creds.password = "not-the-password"  # so a fallback to login() would fail
    for _ in range(2):
        client._creds.access = "expired.or.garbage"
        assert client.tasks() == []


def test_it_works_with_a_personal_token(live_server, owner, monkeypatch):
    jwt = Client(live_server.url, "owner", "owner-pass-123")
    key = jwt._request("POST", "/auth/token")["token"]
    monkeypatch.setenv("MOFSIM_URL", live_server.url)
    monkeypatch.setenv("MOFSIM_TOKEN", key)
    with Client.from_env() as client:
        assert client.tasks() == []
    with pytest.raises(AuthenticationError):
        Client(live_server.url, token="not-a-token").tasks()


def test_the_async_client_runs_a_task(live_server, owner, emt, worker, cu_cif, tmp_path):
    async def main():
        async with AsyncClient(live_server.url, "owner", "owner-pass-123") as client:
            structure = await client.upload_structure(cu_cif)
            tasks = await client.submit_many(
                [{"kind": "single_point", "structure": structure["id"], "model": "emt"} for _ in range(2)]
            )
            done = await asyncio.gather(*(t.wait(timeout=60, poll=0.2) for t in tasks))
            lines = [line async for line in tasks[0].stream_logs(poll=0.1)]
            path = await tasks[0].download("result.json", tmp_path)
            with pytest.raises(ValidationError):
                await client.submit("optimization", 999_999, model="emt")
            with pytest.raises(ValidationError) as refused:  # all or nothing
                await client.submit_many([{"kind": "single_point", "structure": structure["id"], "model": "emt"},
                                          {"kind": "single_point", "structure": 999_999}])  # fmt: skip
            assert [r["index"] for r in refused.value.details["tasks"]] == [1]
            estimate = await client.estimate("single_point", structure["id"], model="emt")
            assert estimate["n_samples"] == 2
            run_eta = await client.estimate_benchmark("single_point", structures=[structure["id"]], model="emt")
            assert run_eta["n_tasks"] == 1
            return done, lines, await tasks[0].result(), path

    done, lines, result, path = run_async(main)
    assert [t.status for t in done] == ["COMPLETED", "COMPLETED"]
    assert any("E = " in line["message"] for line in lines)
    assert result["n_atoms"] == 4 and path.exists()
    from tasks_app.models import Task as TaskRow

    assert TaskRow.objects.count() == 2  # the refused batch created nothing
