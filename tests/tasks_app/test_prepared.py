"""The claim and the final write are server-bound and prepared once per connection (PostgreSQL).

``tasks_app.prepared``: what the session's ``pg_prepared_statements`` holds after a few claims and
final writes, that a new connection prepares again, and that ``connection.queries`` still shows
each statement with its values (the statement budgets and ``DEBUG`` read it)."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tasks_app.scheduler import claim_next_task
from tasks_app.state import Lease, finish
from tests.conftest import make_task

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"), reason="PostgreSQL's prepared statements"
    ),
]
S = TaskStatus


def prepared_in_this_session() -> dict[str, int]:
    """Statement text → executions, for the claim and the final write."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        rows = cursor.fetchall()
    return {sql: n for sql, n in rows if "WITH head AS" in sql or 'UPDATE "tasks_app_task" SET' in sql}


def run_one(owner, structure, model) -> None:
    make_task(owner, structure, model)
    task = claim_next_task(None, start="on cpu")
    assert finish(task, S.COMPLETED, lease=Lease.of(task), result={"energy_ev": 1.0})


def test_each_shape_is_prepared_once_and_reused(owner, cu_structure, emt):
    connection.close()  # a fresh session
    for _ in range(3):
        run_one(owner, cu_structure, emt)
    prepared = prepared_in_this_session()
    claims = [n for sql, n in prepared.items() if "WITH head AS" in sql]
    writes = [n for sql, n in prepared.items() if "WITH t AS" in sql]
    assert claims == [3] and writes == [3], prepared
    assert all("$1" in sql for sql in prepared)  # bound by the server, not quoted into the text


def test_a_new_connection_prepares_again(owner, cu_structure, emt):
    run_one(owner, cu_structure, emt)
    connection.close()
    assert prepared_in_this_session() == {}
    run_one(owner, cu_structure, emt)
    assert sorted(prepared_in_this_session().values()) == [1, 1]


def test_the_query_log_shows_the_values(owner, cu_structure, emt):
    make_task(owner, cu_structure, emt)
    with CaptureQueriesContext(connection) as ctx:
        task = claim_next_task(None, start="on cpu")
        finish(task, S.COMPLETED, lease=Lease.of(task), result={"energy_ev": 1.0})
    logged = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().startswith("WITH")]
    assert len(logged) == 2, logged
    assert "status QUEUED → ASSIGNED" in logged[0]
    assert task.pk.hex in logged[1] and "COMPLETED" in logged[1]
    assert not any("%s" in sql for sql in logged)


def test_other_statements_are_neither_prepared_nor_remembered(owner, cu_structure, emt):
    run_one(owner, cu_structure, emt)
    driver = connection.connection
    assert driver.prepare_threshold is None  # Django's setting, back after each prepared statement
    remembered = len(driver._prepared._counts)
    list(Task.objects.filter(owner=owner).values_list("id", flat=True))
    assert len(driver._prepared._counts) == remembered
