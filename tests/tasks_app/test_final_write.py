"""The final write in one statement (``tasks_app.state.finish`` / ``tasks_app.final_write``, issue 12).

Parity: a task finished through the one-statement path leaves the same rows as one finished
through the reference path (``transition`` and the ORM inserts in one transaction). Fencing: a
stale attempt's ``finish`` writes nothing at all. On SQLite ``finish`` declines and the
reference path runs (the rest of the suite covers it there).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks_app import final_write
from tasks_app.choices import TaskStatus
from tasks_app.models import Task, TaskArtifact, TaskAttempt, TaskLogLine, TaskMetricPoint
from tasks_app.scheduler import claim_next_task
from tasks_app.state import Lease, finish
from tests.conftest import make_task

S = TaskStatus
pytestmark = pytest.mark.django_db(transaction=True)
postgresql_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="data-modifying CTEs")


def record_of(task_id) -> dict:
    """What a finished task left in the database, without what differs between two runs anyway
    (ids, times, the provenance's wall times and task id, file hashes of files that hold those)."""
    task = Task.objects.get(pk=task_id)
    result = dict(task.result or {})
    result.pop("provenance", None)
    attempt = TaskAttempt.objects.get(task_id=task_id)
    return {
        "task": (task.status, task.error, task.traceback, task.progress_step, task.progress_total, task.progress,
                 task.lease_expires_at, bool(task.finished_at), result),
        "lines": list(TaskLogLine.objects.filter(task_id=task_id).order_by("id")
                      .values_list("level", "source", "message")),
        "attempt": (attempt.number, attempt.outcome, attempt.reason, bool(attempt.started_at), bool(attempt.ended_at)),
        "points": list(TaskMetricPoint.objects.filter(task_id=task_id).order_by("id").values_list("step", "data")),
        "artifacts": list(TaskArtifact.objects.filter(task_id=task_id).values_list("name", "attempt")),
    }  # fmt: skip


@postgresql_only
def test_one_statement_and_the_reference_path_leave_the_same_rows(owner, cu_structure, emt, run_inline,
                                                                  monkeypatch):  # fmt: skip
    fast = run_inline(make_task(owner, cu_structure, emt), device="cpu")
    monkeypatch.setattr(final_write, "supported", lambda: False)
    reference = run_inline(make_task(owner, cu_structure, emt), device="cpu")
    assert fast.status == reference.status == S.COMPLETED
    assert record_of(fast.pk) == record_of(reference.pk)
    # The instance is what was written, as after the reference path (the pushed fragment reads it).
    fresh = Task.objects.get(pk=fast.pk)
    assert (fast.status, fast.finished_at, fast.updated_at, fast.result) == (
        fresh.status, fresh.finished_at, fresh.updated_at, fresh.result)  # fmt: skip
    held = sorted((a.pk, a.name, a.sha256) for a in fast.artifacts.all())
    assert held == sorted(TaskArtifact.objects.filter(task=fresh).values_list("pk", "name", "sha256"))
    assert [(a.outcome, a.ended_at) for a in fast.attempt_history.all()] == [(S.COMPLETED, fresh.finished_at)]


def claimed(owner, cu_structure, emt) -> Task:
    make_task(owner, cu_structure, emt)
    task = claim_next_task(None, start="on cpu")
    assert task is not None and task.status == S.RUNNING
    return task


def rows_of(task_id) -> tuple:
    return (TaskLogLine.objects.filter(task_id=task_id).count(), TaskArtifact.objects.filter(task_id=task_id).count(),
            TaskMetricPoint.objects.filter(task_id=task_id).count(),
            TaskAttempt.objects.filter(task_id=task_id, ended_at__isnull=False).count())  # fmt: skip


def leftovers(task) -> dict:
    return {
        "lines": [TaskLogLine(task_id=task.pk, level="INFO", source="executor", message="E = 1")],
        "points": [TaskMetricPoint(task_id=task.pk, step=1, data={"energy": 1.0})],
        "artifacts": [
            TaskArtifact(
                task_id=task.pk, attempt=task.attempts, name="result.json", path="x", size_bytes=2, sha256="0" * 64
            )
        ],  # fmt: skip
    }


@postgresql_only
@pytest.mark.parametrize("moved", ["failed over", "cancelled"])
def test_a_stale_attempt_writes_nothing(owner, cu_structure, emt, moved):
    task = claimed(owner, cu_structure, emt)
    lease = Lease.of(task)
    before = rows_of(task.pk)
    if moved == "cancelled":
        Task.objects.filter(pk=task.pk).update(status=S.CANCELLED)
    else:  # another attempt holds it now
        Task.objects.filter(pk=task.pk).update(lease_token=None)
    assert not finish(task, S.COMPLETED, lease=lease, result={"energy_ev": 1.0}, **leftovers(task))
    assert rows_of(task.pk) == before
    row = Task.objects.get(pk=task.pk)
    assert row.status == (S.CANCELLED if moved == "cancelled" else S.RUNNING) and row.result is None


@postgresql_only
def test_a_failure_is_written_with_its_reason_in_one_statement(owner, cu_structure, emt):
    task = claimed(owner, cu_structure, emt)
    with CaptureQueriesContext(connection) as ctx:
        assert finish(task, S.FAILED, lease=Lease.of(task), level="ERROR", error="boom", traceback="tb",
                      **leftovers(task))  # fmt: skip
    # One statement writes; the only other is the alert rules' lookup after commit (a FAILED task).
    sql = [q["sql"].strip() for q in ctx.captured_queries]
    assert len(sql) == 2 and sql[0].startswith("WITH") and "alerts_app_alertrule" in sql[1], sql
    row = Task.objects.get(pk=task.pk)
    assert (row.status, row.error, row.traceback, row.lease_expires_at) == (S.FAILED, "boom", "tb", None)
    attempt = TaskAttempt.objects.get(task=row)
    assert (attempt.outcome, attempt.reason) == (S.FAILED, "boom") and attempt.ended_at == row.finished_at
    lines = list(TaskLogLine.objects.filter(task=row).order_by("id").values_list("level", "message"))
    assert lines[-2:] == [("INFO", "E = 1"), ("ERROR", "status RUNNING → FAILED")]
    assert list(TaskMetricPoint.objects.filter(task=row).values_list("step", "data")) == [(1, {"energy": 1.0})]


@postgresql_only
def test_a_later_attempt_keeps_only_its_own_artifacts(owner, cu_structure, emt):
    task = claimed(owner, cu_structure, emt)
    TaskArtifact.objects.create(task=task, attempt=task.attempts, name="old.json", path="old", size_bytes=1,
                                sha256="1" * 64)  # fmt: skip
    Task.objects.filter(pk=task.pk).update(attempts=2)
    task.attempts = 2
    assert finish(task, S.COMPLETED, lease=Lease.of(task), result={}, **leftovers(task))
    assert list(TaskArtifact.objects.filter(task=task).values_list("name", "attempt")) == [("result.json", 2)]


def test_sqlite_takes_the_reference_path(owner, cu_structure, emt):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL takes the one-statement path")
    task = claimed(owner, cu_structure, emt)
    assert not final_write.supported()
    assert not finish(task, S.COMPLETED, lease=Lease.of(task), result={}, **leftovers(task))
    assert Task.objects.get(pk=task.pk).status == S.RUNNING
