"""The claim as one SQL statement on PostgreSQL (issue 12): rank, lock, move, log, record.

A claim used to be seven round trips (the head of the queue, the fair-share count, a
``SKIP LOCKED`` probe, ``transition``'s locking SELECT, its UPDATE, the log INSERT, the attempt
INSERT) plus BEGIN/COMMIT; at 8 claimers on a loaded 2-core machine that was a few claims a
second, nearly all of it waiting for round trips. Here the same work is one data-modifying CTE:

``head``     the window of QUEUED rows in queue order (the queryset ``scheduler.queued_tasks``
             builds, compiled by Django with ``compile_head``: the same filters as the ranking the
             SQLite path uses);
``held``     the fair-share count, per owner in the window, of ASSIGNED/RUNNING rows (the
             partial index ``task_held_owner_idx``);
``ranked``   the window in claim order (priority, fair share, model affinity, FIFO);
``pick``     its first row nobody else holds, locked with ``FOR UPDATE OF t SKIP LOCKED`` — a row
             another claimer committed meanwhile is re-checked against ``status = QUEUED`` and
             skipped. The window is walked in rank order, one row at a time (a LATERAL lock per
             row under ``LIMIT 1``), each fetched by the address the head read it at (``ctid``, a
             TID scan; the lock follows a row that moved): the walk stops at the first row it
             locks, so a claim usually reads one row, not all 50 (``test_claim_concurrency``
             checks that no other row is locked);
``claimed``  the conditional UPDATE QUEUED → ASSIGNED (→ RUNNING with ``start``), with the values
             ``state.implied_fields`` gives a claim (fresh fencing token, lease expiry, stamps) and
             ``attempts + 1``;
``line``, ``attempt``  the transition's log line(s) and the attempt row;

and the final SELECT returns the claimed row with its structure, model, node and callback, so the
worker and the after-commit events read nothing more. Outside a transaction the statement is its
own transaction: one round trip, no BEGIN/COMMIT, no savepoint. The statement is prepared once
per connection (``tasks_app.prepared``), so PostgreSQL neither parses nor plans it again.
Exactly-once is what it was: the row lock plus the conditional UPDATE; fencing is the token the
UPDATE writes.

This is the claim transition of ``tasks_app.state`` in set form (DESIGN.md rule 2): the moves,
stamps, lines, attempt row and events are the ones ``transition(task, ASSIGNED, start=...)``
makes (``tests/tasks_app/test_claim_statement.py`` compares them), and nothing else writes them.
"""

import functools
from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Field, ForeignKey, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from tasks_app import prepared
from tasks_app.choices import TaskStatus
from tasks_app.models import Task, TaskAttempt, TaskCallback, TaskLogLine
from tasks_app.row_loader import loader
from tasks_app.state import HELD, emit_after_commit, implied_fields, keep, line_text

S = TaskStatus
HEAD_COLUMNS = ("id", "owner_id", "model_id", "priority", "queued_at")
RELATED = ("structure", "model", "node")  # forward relations read with the row (as transition's SELECT)


def compile_head(queued: QuerySet, limit: int | None = None) -> tuple[str, tuple]:
    """SQL and parameters of the claim's window: ``queued`` (QUEUED tasks in queue order), its
    first ``limit`` rows, with the columns the ranking reads and each row's ``ctid``."""
    rows = queued.annotate(ctid=RawSQL(f"{connection.ops.quote_name(Task._meta.db_table)}.ctid", ()))
    head = rows.values(*HEAD_COLUMNS, "ctid")
    return (head[:limit] if limit is not None else head).query.sql_with_params()


def claim(head: tuple[str, tuple], node, loaded_model_ids: Iterable = (), start: str | None = None) -> Task | None:
    """Claim the best row of ``head`` (``compile_head``'s SQL and parameters) for ``node``; None
    when every row in it is taken or held by another claimer."""
    conn = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: each ``connection.x`` is a proxy look-up
    now = timezone.now()
    sets = _set_values(conn, node, now, start)
    messages = [line_text(S.QUEUED, S.ASSIGNED, f"claimed by {node}" if node else "claimed")]
    if start is not None:
        messages.append(line_text(S.ASSIGNED, S.RUNNING, start))
    head_sql, head_params = head
    sql, order = _statement(head_sql, tuple(sets), len(messages))
    params = [
        *head_params, list(loaded_model_ids), *sets.values(),
        now, "INFO", "platform", *(p for n, text in enumerate(messages) for p in (n, text)),
        node.pk if node else None, node.name if node else "", now, now if start is not None else None,
    ]  # fmt: skip
    with prepared.cursor(conn) as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    task, line_ids, attempt_id = _task_from(conn, row, order)
    lines = [
        TaskLogLine(id=line_id, task_id=task.pk, created_at=now, level="INFO", source="platform", message=text)
        for line_id, text in zip(line_ids, messages, strict=True)
    ]
    attempt = TaskAttempt(
        id=attempt_id, task_id=task.pk, number=task.attempts, node=task.node, node_name=node.name if node else "",
        claimed_at=now, started_at=now if start is not None else None,
    )  # fmt: skip
    attempt._state.adding, attempt._state.db = False, conn.alias
    if task.attempts == 1:  # the whole history is this attempt: the pushed fragment reads no rows
        keep(task, "attempt_history", [attempt])
    emit_after_commit(task, S.QUEUED, lines[0], lines[1] if start is not None else None)
    return task


def _set_values(conn, node, now, start: str | None) -> dict[str, object]:
    """Column → value for the claim's UPDATE (``attempts`` is ``attempts + 1`` in the SQL)."""
    values = {"status": S.RUNNING if start is not None else S.ASSIGNED, "updated_at": now, "node": node}
    values.update(implied_fields(_fresh(), S.ASSIGNED, now))
    if start is not None:
        values.update(implied_fields(_fresh(), S.RUNNING, now))
    del values["attempts"]
    values["node"] = node.pk if node is not None else None
    return {field.column: field.get_db_prep_save(values[name], conn) for name, field in _set_fields(tuple(values))}


@functools.cache
def _fresh() -> Task:
    """The row ``implied_fields`` computes a claim from: it reads only ``attempts`` (the SQL adds
    one to the real count) and never changes the row."""
    return Task(attempts=0)


@functools.lru_cache(maxsize=8)
def _set_fields(names: tuple[str, ...]) -> tuple[tuple[str, Field], ...]:
    """The Task fields the UPDATE sets, by name (looked up once per shape, not per claim)."""
    fields = []
    for name in names:
        field = Task._meta.get_field(name)
        assert isinstance(field, Field) and field.column
        fields.append((name, field))
    return tuple(fields)


@functools.lru_cache(maxsize=64)
def _statement(head_sql: str, set_columns: tuple[str, ...], n_lines: int) -> tuple[str, list]:
    """The CTE, and the (model, alias) order of the related rows in its result.

    Parameters in the INSERTs' select lists carry their column's type: a prepared statement has
    no literal to infer it from."""
    q = connection.ops.quote_name
    task, line, attempt = Task._meta.db_table, TaskLogLine._meta.db_table, TaskAttempt._meta.db_table
    sets = ", ".join(f"{q(c)} = %s" for c in set_columns)
    values = ", ".join(["(%s::integer, %s::text)"] * n_lines)
    # The states are literals, not parameters: a prepared statement's generic plan can then use
    # the partial indexes on them (task_held_owner_idx for the fair-share count).
    held, queued = ", ".join(_literal(s) for s in HELD), _literal(S.QUEUED)
    line_types = [_cast(TaskLogLine, name) for name in ("created_at", "level", "source")]
    attempt_types = [_cast(TaskAttempt, name) for name in ("node", "node_name", "claimed_at", "started_at")]
    joins, order = [], []
    for name in RELATED:
        field = Task._meta.get_field(name)
        model = field.related_model
        assert isinstance(field, ForeignKey) and isinstance(model, type) and issubclass(model, Model)
        joins.append(f"LEFT JOIN {q(model._meta.db_table)} {name} ON {name}.{q(model._meta.pk.column)} = "
                     f"claimed.{q(field.column)}")  # fmt: skip
        order.append((model, name))
    joins.append(f'LEFT JOIN {q(TaskCallback._meta.db_table)} callback ON callback."task_id" = claimed."id"')
    order.append((TaskCallback, "callback"))
    columns = [
        *_columns(Task, "claimed"), '(SELECT array_agg("id" ORDER BY "id") FROM line)', '(SELECT "id" FROM attempt)',
        *(c for model, alias in order for c in _columns(model, alias)),
    ]  # fmt: skip
    sql = f"""
WITH head AS MATERIALIZED ({head_sql}),
held AS MATERIALIZED (
    SELECT "owner_id", COUNT(*) AS n FROM {q(task)}
    WHERE "status" IN ({held}) AND "owner_id" IN (SELECT "owner_id" FROM head) GROUP BY "owner_id"
),
ranked AS MATERIALIZED (
    SELECT h."id", h."ctid", row_number() OVER (
        ORDER BY h."priority" DESC, COALESCE(held.n, 0), CASE WHEN h."model_id" = ANY(%s) THEN 0 ELSE 1 END,
                 h."queued_at"
    ) AS rank
    FROM head h LEFT JOIN held ON held."owner_id" = h."owner_id"
),
pick AS (
    SELECT t."id" FROM (SELECT "ctid", rank FROM ranked ORDER BY rank) r
    CROSS JOIN LATERAL (
        SELECT t."id" FROM {q(task)} t WHERE t."ctid" = r."ctid" AND t."status" = {queued}
        FOR UPDATE OF t SKIP LOCKED
    ) t
    ORDER BY r.rank LIMIT 1
),
claimed AS (
    UPDATE {q(task)} t SET {sets}, "attempts" = t."attempts" + 1
    WHERE t."id" = (SELECT "id" FROM pick) AND t."status" = {queued} RETURNING t.*
),
line AS (
    INSERT INTO {q(line)} ("task_id", "created_at", "level", "source", "message")
    SELECT claimed."id", {", ".join(f"%s::{t}" for t in line_types)}, v.message
    FROM claimed, (VALUES {values}) AS v(n, message) ORDER BY v.n
    RETURNING "id"
),
attempt AS (
    INSERT INTO {q(attempt)}
        ("task_id", "number", "node_id", "node_name", "claimed_at", "started_at", "outcome", "reason")
    SELECT claimed."id", claimed."attempts", {", ".join(f"%s::{t}" for t in attempt_types)}, '', ''
    FROM claimed RETURNING "id"
)
SELECT {", ".join(columns)} FROM claimed {" ".join(joins)}"""  # noqa: S608 - names from the models, values as parameters
    return sql, order


def _literal(state: str) -> str:
    assert state.isalpha()  # a TaskStatus value: nothing to escape
    return f"'{state}'"


def _cast(model: type[Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return str(field.db_type(connection))


def _fields(model: type[Model]) -> list:
    return list(model._meta.concrete_fields)


def _columns(model: type[Model], alias: str) -> list[str]:
    return [f"{alias}.{connection.ops.quote_name(f.column)}" for f in _fields(model)]


def _task_from(conn, row, order) -> tuple[Task, list, int]:
    """The claimed Task with its related rows cached, as ``transition``'s locking SELECT left it;
    and the ids of the log lines and of the attempt row the statement inserted."""
    load = loader(Task, conn)
    task = load(row[: load.width])
    assert isinstance(task, Task)
    line_ids, attempt_id = row[load.width], row[load.width + 1]
    offset = load.width + 2
    for model, name in order:
        load = loader(model, conn)
        related = load(row[offset : offset + load.width])
        offset += load.width
        if name == "callback":
            Task.callback.related.set_cached_value(task, related)
        else:
            Task._meta.get_field(name).set_cached_value(task, related)  # type: ignore[union-attr]
    return task, line_ids, attempt_id
