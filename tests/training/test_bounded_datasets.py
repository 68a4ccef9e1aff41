"""Dataset uploads and SQLite imports are bounded: limited child, row cap, typed filters, no 500s.

On main a 3M-row SQLite import ran 137 s inside the request, a filter with a list or dict where a
name belongs raised TypeError and a deeply nested one RecursionError (both 500s).
"""

import json

import pytest

from models_app.models import TrainingDataset
from tests.training.conftest import upload
from tests.training.test_sqlite_import import dms_db, import_  # noqa: F401 - the fixture is used by name

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        ([{"field": ["mutant"], "op": "eq", "value": "x"}], "unknown field a list"),
        ([{"field": {"a": 1}, "op": "eq", "value": "x"}], "unknown field a dict"),
        ([{"field": "mutant", "op": ["eq"], "value": "x"}], "unknown op a list"),
        ([{"field": "mut_num", "op": "eq", "value": {"x": [1, 2]}}], "needs a number, got a dict"),
    ],
)
def test_it_refuses_containers_where_names_belong(api, dms_db, flt, message):  # noqa: F811
    response = import_(api, dms_db, flt)
    assert response.status_code == 400, response.content
    assert message in response.json()["message"]
    assert not TrainingDataset.objects.exists()


def test_it_refuses_a_deeply_nested_filter(api, dms_db):  # noqa: F811
    with open(dms_db, "rb") as fh:
        response = api.post(
            "/api/v1/datasets/import-sqlite", {"file": fh, "filter": "[" * 100_000 + "]" * 100_000}, format="multipart"
        )
    assert response.status_code == 400, response.content
    assert response.json()["details"] == {"filter": ["JSON nested deeper than 32 levels"]}


def test_an_import_selecting_more_rows_than_the_limit_is_refused(api, dms_db, settings):  # noqa: F811
    settings.DATASET_IMPORT_MAX_ROWS = 2
    response = import_(api, dms_db, [])
    assert response.status_code == 400, response.content
    assert "selects more than 2 rows" in response.json()["message"]
    assert not TrainingDataset.objects.exists()


def test_an_import_runs_in_a_child_with_a_wall_clock_limit(api, dms_db, settings):  # noqa: F811
    settings.PARSE_TIMEOUT_S = 0.01
    response = import_(api, dms_db, [])
    assert response.status_code == 400, response.content
    assert "processing stopped: it took longer than 0.01 s" in response.json()["message"]


def test_an_upload_is_validated_in_a_child_with_a_memory_limit(api, dms_files, settings):
    settings.PARSE_MAX_MEMORY_MB = 64  # less than the CSV validator needs with numpy loaded
    response = upload(api, dms_files["csv"])
    assert response.status_code == 400, response.content
    assert "ran out of memory" in response.json()["message"]
    assert not TrainingDataset.objects.exists()


def test_the_filter_is_passed_whole_however_long(api, dms_db):  # noqa: F811
    """argv caps one argument at 128 KiB; a 1000-value ``in`` list of long strings exceeds it."""
    values = ["M1A"] + [f"X{i}" + "Y" * 900 for i in range(999)]
    response = import_(api, dms_db, [{"field": "mutant", "op": "in", "value": values}])
    assert response.status_code == 201, response.content
    assert response.json()["n_records"] == 1
    assert len(json.dumps(values)) > 128 * 1024


@pytest.mark.parametrize("data_path", ["x" * 300, "raw/" + "y" * 256 + "/z.csv"])
def test_a_job_with_an_impossible_data_path_is_a_400(api, data_path):
    """Found by the fuzzer: a 300-character name raised OSError (ENAMETOOLONG), a 500."""
    response = api.post("/api/v1/jobs/", {"kind": "train_dms", "data_path": data_path}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["details"] == {"data_path": ["data_path is not a valid path"]}
