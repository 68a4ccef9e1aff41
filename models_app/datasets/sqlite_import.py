"""Import DMS rows from an uploaded SQLite file with a structured, whitelisted row filter.

Expected tables: ``sources(id, source_text, template)`` and
``mutations(id, mutant, DMS_score, DMS_score_bin, mut_num, source)``. The user never writes SQL:
a filter is a list of ``{"field", "op", "value"}`` conditions (AND-ed); fields and operators come
from fixed tables below and every value is a bound parameter. The file itself is untrusted, so
it is opened read-only and immutable with ``trusted_schema=OFF`` (no functions from its schema),
both names must be real tables (a view would run the file's own SQL), and a progress handler
caps query time. The import runs in a limited child (``models_app.datasets.child``) and stops at
``max_rows`` selected rows, so a 3-million-row file cannot hold a web request for minutes.
"""

import csv
import sqlite3
import time
from pathlib import Path

from models_app.datasets import DatasetError

HEADER = b"SQLite format 3\x00"
COLUMNS = {
    "sources": {"id", "source_text", "template"},
    "mutations": {"id", "mutant", "DMS_score", "DMS_score_bin", "mut_num", "source"},
}
# filter field -> SQL column expression (fixed strings; never built from user input)
FIELDS = {
    "mutant": "m.mutant",
    "DMS_score": "m.DMS_score",
    "DMS_score_bin": "m.DMS_score_bin",
    "mut_num": "m.mut_num",
    "source": "m.source",
    "source_text": "s.source_text",
    "template": "s.template",
}
NUMERIC = {"DMS_score", "DMS_score_bin", "mut_num", "source"}
OPS = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "in": "IN", "contains": "LIKE"}
MAX_CONDITIONS = 20
MAX_IN_VALUES = 1000
QUERY_SECONDS = 120


def _short(value) -> str:
    """How a bad value is quoted back: strings and numbers briefly, containers by type only."""
    if isinstance(value, str | int | float | bool) or value is None:
        return repr(value)[:60]
    return f"a {type(value).__name__}"


def _scalar(field: str, value, where: str):
    if field in NUMERIC:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DatasetError(f"{where}: {field} needs a number, got {_short(value)}")
        return value
    if not isinstance(value, str) or len(value) > 1000:
        raise DatasetError(f"{where}: {field} needs a string (at most 1000 characters)")
    return value


def build_where(conditions) -> tuple[str, list]:
    """``(sql, params)`` for a validated filter; ``("", [])`` for no filter."""
    if conditions in (None, [], {}):
        return "", []
    if isinstance(conditions, dict):
        conditions = [conditions]
    if not isinstance(conditions, list) or len(conditions) > MAX_CONDITIONS:
        raise DatasetError(f"filter must be a list of at most {MAX_CONDITIONS} {{field, op, value}} objects")
    clauses, params = [], []
    for i, cond in enumerate(conditions):
        where = f"filter[{i}]"
        if not isinstance(cond, dict) or set(cond) != {"field", "op", "value"}:
            raise DatasetError(f"{where}: must be an object with exactly field, op and value")
        field, op, value = cond["field"], cond["op"], cond["value"]
        if not isinstance(field, str) or field not in FIELDS:
            raise DatasetError(f"{where}: unknown field {_short(field)}; use one of {', '.join(sorted(FIELDS))}")
        if not isinstance(op, str) or op not in OPS:
            raise DatasetError(f"{where}: unknown op {_short(op)}; use one of {', '.join(OPS)}")
        column = FIELDS[field]
        if op == "in":
            if not isinstance(value, list) or not 0 < len(value) <= MAX_IN_VALUES:
                raise DatasetError(f"{where}: 'in' needs a list of 1–{MAX_IN_VALUES} values")
            params.extend(_scalar(field, v, where) for v in value)
            clauses.append(f"{column} IN ({', '.join('?' * len(value))})")
        elif op == "contains":
            if field in NUMERIC:
                raise DatasetError(f"{where}: 'contains' works on text fields only")
            text = _scalar(field, value, where)
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
            clauses.append(f"{column} LIKE ? ESCAPE '\\'")
        else:
            params.append(_scalar(field, value, where))
            clauses.append(f"{column} {OPS[op]} ?")
    return " WHERE " + " AND ".join(clauses), params


def _open(path: Path) -> sqlite3.Connection:
    with open(path, "rb") as fh:
        if fh.read(16) != HEADER:
            raise DatasetError("not an SQLite 3 database file")
    uri = f"file:{Path(path).resolve()}?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True)
    conn.execute("PRAGMA trusted_schema = OFF")
    conn.execute("PRAGMA query_only = ON")
    deadline = time.monotonic() + QUERY_SECONDS
    conn.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 10_000)
    return conn


def _check_schema(conn: sqlite3.Connection) -> None:
    try:
        kinds = dict(conn.execute("SELECT name, type FROM sqlite_master WHERE name IN ('sources', 'mutations')"))
    except sqlite3.DatabaseError as exc:
        raise DatasetError(f"unreadable SQLite file: {exc}") from exc
    for table, needed in COLUMNS.items():
        if kinds.get(table) != "table":
            raise DatasetError(f"the database has no table {table!r}")
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}  # noqa: S608 - fixed names
        missing = sorted(needed - have)
        if missing:
            raise DatasetError(f"table {table!r} lacks column(s) {', '.join(missing)}")


def export_rows(path: Path, conditions, out_csv: Path, max_rows: int) -> dict:
    """Write the filtered rows as a DMS CSV (mutant, DMS_score, DMS_score_bin); return counts."""
    where, params = build_where(conditions)
    conn = _open(path)
    try:
        _check_schema(conn)
        sql = (
            "SELECT m.mutant, m.DMS_score, m.DMS_score_bin FROM mutations m "
            "LEFT JOIN sources s ON s.id = m.source" + where + " ORDER BY m.id"
        )
        n = 0
        with open(out_csv, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["mutant", "DMS_score", "DMS_score_bin"])
            for mutant, score, score_bin in conn.execute(sql, params):
                n += 1
                if n > max_rows:
                    raise DatasetError(f"the filter selects more than {max_rows} rows (the import limit); narrow it")
                writer.writerow([mutant, score, score_bin])
        total = conn.execute("SELECT COUNT(*) FROM mutations").fetchone()[0]
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise DatasetError(f"the query took longer than {QUERY_SECONDS} s") from exc
        raise DatasetError(f"SQLite error: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise DatasetError(f"unreadable SQLite file: {exc}") from exc
    finally:
        conn.close()
    if n == 0:
        raise DatasetError(f"the filter matched none of the {total} mutations")
    return {"rows_selected": n, "rows_total": total}
