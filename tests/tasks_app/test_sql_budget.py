"""SQL statements per task (issue 12; DESIGN.md rule 11): counts, not timings, so they are tests.

Budgets: at most 5 statements to submit a task (issue 12's goal), at most 5 on PostgreSQL (9 on
SQLite) to run a near-no-op one (EMT single point on 4 atoms) from claim to COMPLETED, on-commit
hooks included (the pushed fragments render without a query); the goal is 15. First the claim's
transaction that starts the task (locking SELECT, one UPDATE to RUNNING, one INSERT of both log
lines, one INSERT of the attempt); then the final write: on PostgreSQL one statement in
autocommit (``tasks_app.final_write``: the fenced UPDATE, the pending and final log lines, the
attempt's end, the metric points and the artifact upsert as CTEs), on SQLite a transaction of
those five statements.
Transactional tests, so the count is what a worker or a web request sends (no test-wide
transaction adding savepoints). Transaction control is not counted: SQLite logs its
``BEGIN IMMEDIATE``/``COMMIT`` as statements, PostgreSQL's psycopg sends them unlogged. The lease
keeper renews from its own thread and connection every TASK_LEASE_POLL_S; it is not part of a
task's count.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks_app.choices import TaskStatus
from tasks_app.models import Task, TaskArtifact, TaskLogLine, TaskMetricPoint
from tasks_app.params import validate_params
from tasks_app.scheduler import claim_next_task
from tasks_app.services import enqueue_task, enqueue_tasks
from tests.conftest import make_task

pytestmark = pytest.mark.django_db(transaction=True)
SUBMIT_BUDGET = 5
RUN_BUDGET = 5 if connection.vendor == "postgresql" else 9
# A worker's claim (ranking, lock, move to RUNNING, log lines, attempt row, after-commit events):
# one statement on PostgreSQL (tasks_app.claim_statement, prepared by the driver: no PREPARE text);
# on SQLite the ranking's two SELECTs plus transition's locking SELECT, UPDATE and two INSERTs.
CLAIM_BUDGET = {"postgresql": 1, "sqlite": 6}


def statements(ctx) -> list[str]:
    sql = [q["sql"] for q in ctx.captured_queries]
    return [q for q in sql if q.split(" ", 1)[0].upper() not in ("BEGIN", "COMMIT")]


def test_it_submits_a_task_within_the_budget(owner, cu_structure, emt):
    params = validate_params("single_point", {}, "quick")
    with CaptureQueriesContext(connection) as ctx:
        task = enqueue_task(owner=owner, kind="single_point", params=params, structure=cu_structure, model=emt)
    assert len(statements(ctx)) <= SUBMIT_BUDGET, "\n".join(statements(ctx))
    task = Task.objects.get(pk=task.pk)
    assert task.status == TaskStatus.QUEUED and task.queued_at and task.wakeup_sent_at
    assert list(task.log_lines.values_list("message", flat=True)) == ["status PENDING → QUEUED"]


def test_a_batch_costs_the_same_statements_as_one_task(owner, cu_structure, emt):
    params = validate_params("single_point", {}, "quick")
    spec = {"kind": "single_point", "params": params, "structure": cu_structure, "model": emt}
    with CaptureQueriesContext(connection) as ctx:
        tasks = enqueue_tasks(owner, [spec] * 50)
    assert len(statements(ctx)) <= SUBMIT_BUDGET, "\n".join(statements(ctx))
    assert Task.objects.filter(pk__in=[t.pk for t in tasks], status=TaskStatus.QUEUED).count() == 50
    assert TaskLogLine.objects.filter(task__in=tasks).count() == 50


def test_it_runs_a_near_no_op_task_within_the_budget(owner, cu_structure, emt, run_inline):
    task = make_task(owner, cu_structure, emt)
    with CaptureQueriesContext(connection) as ctx:
        task = run_inline(task, device="cpu")
    assert task.status == TaskStatus.COMPLETED, task.error
    assert len(statements(ctx)) <= RUN_BUDGET, "\n".join(statements(ctx))
    # Nothing was skipped to get there: the whole record of the run is in the database.
    fresh = Task.objects.get(pk=task.pk)
    assert fresh.status == TaskStatus.COMPLETED and fresh.result["energy_ev"] == task.result["energy_ev"]
    assert (fresh.progress_step, fresh.progress_total) == (1, 1) and "energy" in fresh.progress
    messages = list(fresh.log_lines.values_list("message", flat=True))
    assert messages[0] == "status PENDING → QUEUED" and messages[-1] == "status RUNNING → COMPLETED"
    assert any(m.startswith("E = ") for m in messages) and any(m.startswith("loading model") for m in messages)
    assert TaskMetricPoint.objects.filter(task=fresh).count() == 2
    names = set(TaskArtifact.objects.filter(task=fresh).values_list("name", flat=True))
    assert {"result.json", "metrics.json", "task.log", "structure.extxyz"} <= names
    attempt = fresh.attempt_history.get()
    assert attempt.started_at and attempt.ended_at and attempt.outcome == TaskStatus.COMPLETED


def test_a_workers_claim_is_within_the_budget(owner, cu_structure, emt):
    task = make_task(owner, cu_structure, emt)
    with CaptureQueriesContext(connection) as ctx:
        claimed = claim_next_task(None, start="on cpu")
        assert claimed.structure == cu_structure and claimed.model == emt  # read with the claim
    assert claimed.pk == task.pk and claimed.status == TaskStatus.RUNNING
    sent = statements(ctx)
    assert len(sent) <= CLAIM_BUDGET[connection.vendor], "\n".join(sent)
