"""SQLite import: whitelisted structured filters become parameterised queries; no SQL from users."""

import sqlite3

import pytest

from models_app.datasets import DatasetError
from models_app.datasets.sqlite_import import build_where
from models_app.models import TrainingDataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def dms_db(tmp_path):
    path = tmp_path / "dms.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE sources(id INTEGER PRIMARY KEY, source_text TEXT, template TEXT);
        CREATE TABLE mutations(id INTEGER PRIMARY KEY, mutant TEXT, DMS_score REAL, DMS_score_bin INTEGER,
                               mut_num INTEGER, source INTEGER REFERENCES sources(id));
        INSERT INTO sources VALUES (1, 'screen A', 'tmplA'), (2, 'screen B''s', 'tmplB');
        INSERT INTO mutations VALUES
          (1, 'M1A', -0.5, 0, 1, 1), (2, 'K2C', 0.7, 1, 1, 1), (3, 'M1A:K2C', -1.1, 0, 2, 2),
          (4, 'T3W', 0.1, 1, 1, 2), (5, 'T3D', -2.0, 0, 1, 1);
        """
    )
    conn.close()
    return path


def import_(api, path, flt, name="imp"):
    import json

    with open(path, "rb") as fh:
        return api.post(
            "/api/v1/datasets/import-sqlite", {"file": fh, "filter": json.dumps(flt), "name": name}, format="multipart"
        )


def test_it_imports_filtered_rows_as_a_dms_dataset(api, dms_db):
    r = import_(
        api, dms_db, [{"field": "mut_num", "op": "eq", "value": 1}, {"field": "DMS_score", "op": "gt", "value": -1}]
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "dms" and body["n_records"] == 3
    assert body["summary"]["imported_from"]["rows_total"] == 5
    text = TrainingDataset.objects.get(pk=body["id"]).absolute_path.read_text()
    assert text.splitlines()[1:] == ["M1A,-0.5,0", "K2C,0.7,1", "T3W,0.1,1"]


def test_it_filters_on_joined_source_text_with_quotes_and_wildcards_as_data(api, dms_db):
    r = import_(api, dms_db, [{"field": "source_text", "op": "contains", "value": "B's"}])
    assert r.status_code == 201, r.content
    assert r.json()["n_records"] == 2
    r = import_(api, dms_db, [{"field": "source_text", "op": "contains", "value": "%"}], name="pct")
    assert r.status_code == 400 and "matched none" in r.json()["message"]


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        ([{"field": "mutant; DROP TABLE mutations", "op": "eq", "value": 1}], "unknown field"),
        ([{"field": "mutant", "op": "= 1 OR 1=1 --", "value": 1}], "unknown op"),
        ([{"field": "mut_num", "op": "eq", "value": "1 OR 1=1"}], "needs a number"),
        ([{"field": "mutant", "op": "eq", "value": "x", "sql": "1"}], "exactly field, op and value"),
        ("SELECT * FROM mutations", "must be a list"),
    ],
)
def test_it_rejects_filters_outside_the_whitelist(api, dms_db, flt, message):
    r = import_(api, dms_db, flt)
    assert r.status_code == 400
    assert message in r.json()["message"]
    assert not TrainingDataset.objects.exists()


def test_injection_text_in_a_value_is_only_data():
    sql, params = build_where([{"field": "mutant", "op": "eq", "value": "x' OR '1'='1"}])
    assert sql == " WHERE m.mutant = ?" and params == ["x' OR '1'='1"]


def test_it_refuses_views_in_place_of_tables(api, tmp_path):
    path = tmp_path / "views.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE sources(id, source_text, template);"
        "CREATE TABLE m0(id, mutant, DMS_score, DMS_score_bin, mut_num, source);"
        "CREATE VIEW mutations AS SELECT * FROM m0;"
    )
    conn.close()
    r = import_(api, path, [])
    assert r.status_code == 400 and "no table 'mutations'" in r.json()["message"]


def test_it_rejects_a_non_sqlite_file(api, tmp_path):
    path = tmp_path / "x.sqlite"
    path.write_bytes(b"not a database")
    r = import_(api, path, [])
    assert r.status_code == 400 and "not an SQLite 3 database" in r.json()["message"]
    with pytest.raises(DatasetError):
        build_where([{"field": "mut_num", "op": "in", "value": []}])
