"""A worker's final write as one SQL statement on PostgreSQL (issue 12).

The end of an attempt writes five things: the fenced UPDATE of the task row (state, result,
progress), its log lines, the end of its attempt row, its metric points and its artifact rows.
As ORM calls inside a transaction that is seven round trips (BEGIN, five statements, COMMIT) and
the largest part of a near-no-op task's database time. Here they are one statement of
data-modifying CTEs, sent in autocommit: one round trip, atomic by itself, prepared once per
connection and shape (``tasks_app.prepared``: planning it cost more than running it).

The fence is the first CTE: the UPDATE matches only the attempt's own RUNNING row (lease token),
and every other CTE reads its ``RETURNING``, so a stale attempt writes nothing at all — the
same guarantee as the transaction it replaces (DESIGN.md rule 1). Nothing is decided here: the
values are ``tasks_app.state.finish``'s, which is the only caller, and which falls back to
``transition`` when this returns False.

SQLite has no data-modifying CTEs: ``supported()`` is False there and the reference path runs.
"""

import json

from django.db import connection
from django.db.models import Field

from tasks_app import prepared
from tasks_app.models import Task, TaskArtifact, TaskAttempt, TaskLogLine, TaskMetricPoint


def supported() -> bool:
    return connection.vendor == "postgresql"


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _set_clause(updates: dict) -> tuple[str, list]:
    """``col = %s, …`` for the task row, each value prepared by its field as the ORM's UPDATE does."""
    parts, params = [], []
    for name, value in updates.items():
        field = Task._meta.get_field(name)
        assert isinstance(field, Field) and field.column
        if field.is_relation and hasattr(value, "pk"):
            value = value.pk
        parts.append(f"{connection.ops.quote_name(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    return ", ".join(parts), params


SQL = """
WITH t AS (
    UPDATE {task} SET {set_clause}
    WHERE id = %s AND status = %s AND lease_token = %s
    RETURNING id
), l AS (
    INSERT INTO {line} (task_id, created_at, level, source, message)
    SELECT t.id, x.created_at, x.level, x.source, x.message
    FROM t, UNNEST(%s::timestamptz[], %s::text[], %s::text[], %s::text[])
        WITH ORDINALITY AS x(created_at, level, source, message, n)
    ORDER BY x.n
    RETURNING id
), e AS (
    UPDATE {attempt} SET ended_at = %s, outcome = %s, reason = %s
    WHERE task_id IN (SELECT id FROM t) AND number = %s AND ended_at IS NULL
), m AS (
    INSERT INTO {point} (task_id, step, data)
    SELECT t.id, x.step, x.data::jsonb
    FROM t, UNNEST(%s::integer[], %s::text[]) WITH ORDINALITY AS x(step, data, n)
    ORDER BY x.n
), d AS (
    DELETE FROM {artifact} WHERE task_id IN (SELECT id FROM t) AND attempt <> %s
), a AS (
    INSERT INTO {artifact} (task_id, attempt, name, path, size_bytes, sha256, created_at)
    SELECT t.id, %s::integer, x.name, x.path, x.size_bytes, x.sha256, %s::timestamptz
    FROM t, UNNEST(%s::text[], %s::text[], %s::bigint[], %s::text[]) AS x(name, path, size_bytes, sha256)
    ON CONFLICT (task_id, attempt, name)
    DO UPDATE SET path = EXCLUDED.path, size_bytes = EXCLUDED.size_bytes, sha256 = EXCLUDED.sha256
    RETURNING id, name
)
SELECT 'task', NULL, NULL FROM t
UNION ALL SELECT 'line', id, NULL FROM l
UNION ALL SELECT 'artifact', id, name FROM a
"""


def write(task_id, token, attempt: int, from_status: str, updates: dict, lines: list[TaskLogLine], reason: str,
          artifacts: list[TaskArtifact], points: list[TaskMetricPoint], now) -> bool:  # fmt: skip
    """Write it all if the row is still ``from_status`` under ``token``; False (nothing written) if not.

    ``lines``, ``artifacts`` and ``points`` are unsaved instances; on success the lines and the
    artifacts get their ids (in insertion order), as ``bulk_create`` would give them. The attempt
    row ends at ``now`` with the new status (``updates["status"]``) as its outcome and ``reason``."""
    set_clause, set_params = _set_clause(updates)
    for line in lines:
        line.created_at = line.created_at or now
    params = [
        *set_params, task_id, from_status, token,
        [x.created_at for x in lines], [x.level for x in lines], [x.source for x in lines],
        [x.message for x in lines],
        now, updates["status"], reason, attempt,
        [p.step for p in points], [json.dumps(p.data) for p in points],
        attempt,
        attempt, now, [a.name for a in artifacts], [a.path for a in artifacts], [a.size_bytes for a in artifacts],
        [a.sha256 for a in artifacts],
    ]  # fmt: skip
    sql = SQL.format(set_clause=set_clause, task=_table(Task), line=_table(TaskLogLine), attempt=_table(TaskAttempt),
                     point=_table(TaskMetricPoint), artifact=_table(TaskArtifact))  # fmt: skip
    with prepared.cursor(connection) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not any(kind == "task" for kind, _, _ in rows):
        return False
    for line, pk in zip(lines, sorted(pk for kind, pk, _ in rows if kind == "line"), strict=True):
        line.pk = pk
    by_name = {name: pk for kind, pk, name in rows if kind == "artifact"}
    for artifact in artifacts:
        artifact.pk, artifact.created_at = by_name[artifact.name], artifact.created_at or now
        artifact._state.adding, artifact._state.db = False, connection.alias
    for line in lines:
        line._state.adding, line._state.db = False, connection.alias
    return True
