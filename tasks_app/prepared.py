"""A cursor for the hot statements: bound and prepared by the server (PostgreSQL, issue 12).

The claim and the final write are big data-modifying CTEs sent once each per task. Sent the way
Django sends SQL (psycopg's client-side binding: every value quoted into the text), PostgreSQL
parsed and planned them every time — planning the final write cost more than running it (~1.5
ms against ~0.5 ms, ``EXPLAIN (ANALYZE, SUMMARY)``) — and the worker spent its own CPU quoting
the result's JSON into the text. A worker sends the same few statement shapes all its life, so
these go through psycopg's server-side binding (its raw-query cursor) with ``prepare=True``:
parameters travel apart from the text, and psycopg prepares each shape once per connection (its
own per-connection cache, ``prepared_max`` shapes; a reconnect prepares again).

The cursor is wrapped as Django wraps its own, so ``connection.queries``, execute wrappers
(statement budgets in the tests) and error translation see these statements like any other.
Parameters the server cannot type from their place (an INSERT's select list, ``= ANY(…)`` of an
empty list) must carry a cast in the SQL: a prepared statement has no literal to infer it from.
"""

import functools
import sys

from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from psycopg import RawCursor

# Django opens its connections with ``prepare_threshold=None``, which turns psycopg's prepared
# statements off even for ``prepare=True``. A threshold no statement reaches prepares exactly
# what asks for it; it is set only while one of these statements runs, because with any
# threshold psycopg also keeps an entry, holding the statement's text, for each of the last
# 100 other statements on the connection (everything else the process sends, bulk INSERTs too).
ONLY_WHEN_ASKED = sys.maxsize


class _PreparedCursor(RawCursor):
    """psycopg's raw-query cursor (``$1``-style placeholders, server-side binding): psycopg
    splits a ``%s`` query anew at every execution when it is longer than 4 KB, as the claim is
    (~0.3 ms of the worker's CPU a claim); here each statement is numbered once per process."""

    def execute(self, query, params=None, *, prepare=True, binary=None):  # type: ignore[override]
        driver = self.connection
        driver.prepare_threshold = ONLY_WHEN_ASKED
        try:
            return super().execute(numbered(query), params, prepare=prepare, binary=binary)
        finally:
            driver.prepare_threshold = None


@functools.lru_cache(maxsize=64)
def numbered(sql: str) -> str:
    """``sql``'s ``%s`` placeholders as ``$1, $2, …``; any other ``%`` is refused (these
    statements have none, and a ``%%`` would need unescaping)."""
    parts = sql.split("%s")
    if any("%" in part for part in parts):
        raise ValueError("only %s placeholders are supported")
    return "".join(f"{part}${i}" for i, part in enumerate(parts[:-1], start=1)) + parts[-1]


class _LoggedCursor(CursorDebugWrapper):
    """Django's debug wrapper logs ``last_executed_query``, which psycopg leaves empty for a
    prepared statement; this logs the statement with its values composed in, as Django does for
    server-side binding."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params)):
            return CursorWrapper.execute(self, sql, params)


def cursor(conn):
    """A Django cursor on ``conn`` (the PostgreSQL connection wrapper) whose statements are
    server-bound and prepared."""
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    conn.validate_thread_sharing()
    with conn.wrap_database_errors:
        raw = _PreparedCursor(conn.connection)
    return _LoggedCursor(raw, conn) if conn.queries_logged else conn.make_cursor(raw)
