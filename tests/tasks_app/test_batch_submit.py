"""``POST /api/v1/tasks/batch``: many tasks in one request, atomic, one report per bad item."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from structures_app.services import store_path
from tasks_app.choices import Priority, TaskStatus
from tasks_app.models import Task, TaskCallback
from tests.conftest import client_for

pytestmark = pytest.mark.django_db
URL = "/api/v1/tasks/batch"


def item(structure, **extra):
    return {"kind": "single_point", "structure": structure.pk, "model": "emt", **extra}


def test_it_creates_every_task_queued_in_a_few_statements(api, owner, cu_structure, emt):
    items = [item(cu_structure, preset="quick") for _ in range(40)] + [item(cu_structure, kind="optimization")]
    with CaptureQueriesContext(connection) as ctx:
        response = api.post(URL, {"tasks": items}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["count"] == 41 and len(body["tasks"]) == 41
    assert [t["kind"] for t in body["tasks"]][-2:] == ["single_point", "optimization"]
    assert all(t["status"] == "QUEUED" and t["model"] == "emt" and t["callback"] is None for t in body["tasks"])
    tasks = Task.objects.filter(owner=owner)
    assert tasks.count() == 41 and set(tasks.values_list("status", flat=True)) == {TaskStatus.QUEUED}
    assert tasks.get(kind="optimization").params["fmax"] > 0  # the type's defaults were applied
    # auth, lookups, quota, the two bulk INSERTs: a constant, not ~20 statements a task
    assert len(ctx) <= 12, "\n".join(q["sql"] for q in ctx.captured_queries)


def test_one_bad_item_creates_nothing_and_every_bad_item_is_reported(api, outsider, cu_structure, emt, tmp_path):
    theirs = store_path(cu_structure.absolute_path, owner=outsider, project="x", name="theirs")
    items = [
        item(cu_structure),
        item(cu_structure, params={"compute_stress": "maybe"}),
        item(theirs),
        item(cu_structure, kind="no_such_kind"),
        item(cu_structure, model="nope", priority="CRITICAL"),
    ]
    response = api.post(URL, {"tasks": items}, format="json")
    assert response.status_code == 400, response.content
    report = response.json()["details"]["tasks"]
    assert [r["index"] for r in report] == [1, 2, 3, 4]
    assert "compute_stress" in report[0]["errors"]["params"]
    assert report[1]["errors"] == {"structure": [f"structure {theirs.pk} not found"]}
    assert "kind" in report[2]["errors"]
    assert set(report[3]["errors"]) == {"model", "priority"}
    assert not Task.objects.exists()


def test_each_distinct_params_is_validated_once_and_reported_for_every_item(api, owner, cu_structure, emt,
                                                                            monkeypatch):  # fmt: skip
    from tasks_app.api import batch

    calls = []
    real = batch.validate_params
    monkeypatch.setattr(batch, "validate_params", lambda *args: calls.append(args) or real(*args))
    bad = {"compute_stress": "maybe"}
    items = [item(cu_structure, params=bad), item(cu_structure), item(cu_structure, params=bad), item(cu_structure)]
    response = api.post(URL, {"tasks": items}, format="json")
    assert response.status_code == 400, response.content
    report = response.json()["details"]["tasks"]
    assert [r["index"] for r in report] == [0, 2]
    assert all("compute_stress" in r["errors"]["params"] for r in report)
    assert len(calls) == 2 and not Task.objects.exists()

    response = api.post(URL, {"tasks": [item(cu_structure, preset="quick")] * 3}, format="json")
    assert response.status_code == 201, response.content
    params = [t.params for t in Task.objects.filter(owner=owner)]
    assert len(params) == 3 and params[0] == params[1] == params[2] and params[0]["compute_stress"] is not None
    assert len(calls) == 3  # one more distinct (kind, params, preset)


@pytest.mark.parametrize(
    "body, message",
    [({}, "required"), ({"tasks": []}, "empty"), ({"tasks": "x"}, "required"), ([1, 2], "required")],
)
def test_it_refuses_a_body_that_is_not_a_list_of_tasks(api, body, message):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400 and message in response.json()["message"].lower(), response.content


def test_the_size_limit_and_the_quota_hold_for_the_whole_batch(api, cu_structure, emt, settings):
    settings.TASK_BATCH_MAX = 3
    response = api.post(URL, {"tasks": [item(cu_structure)] * 4}, format="json")
    assert response.status_code == 400 and "at most 3 tasks per request" in response.json()["message"]
    settings.USER_MAX_ACTIVE_TASKS = 2
    response = api.post(URL, {"tasks": [item(cu_structure)] * 3}, format="json")
    assert response.status_code == 429 and "asked for 3 more" in response.json()["message"]
    assert not Task.objects.exists()


def test_staff_priority_and_callbacks_per_item(operator, cu_structure, emt, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # a local receiver, as in test_callbacks
    items = [
        item(cu_structure, priority="CRITICAL", callback_url="http://127.0.0.1:9/hook"),
        item(cu_structure, callback_url="http://127.0.0.1:9/hook", callback_secret="s" * 20,
             callback_events=["RUNNING"]),
        item(cu_structure),
    ]  # fmt: skip
    response = client_for(operator).post(URL, {"tasks": items}, format="json")
    assert response.status_code == 201, response.content
    out = response.json()["tasks"]
    assert out[0]["priority"] == "CRITICAL" and len(out[0]["callback"]["secret"]) == 64
    assert out[1]["callback"] == {"url": "http://127.0.0.1:9/hook", "events": ["RUNNING"]}  # given: not echoed
    assert out[2]["callback"] is None
    assert Task.objects.get(pk=out[0]["id"]).priority == Priority.CRITICAL
    assert TaskCallback.objects.get(task_id=out[1]["id"]).secret == "s" * 20


def test_the_batch_endpoint_is_in_the_openapi_schema(api):
    schema = api.get("/api/v1/schema/?format=json").json()
    post = schema["paths"]["/api/v1/tasks/batch/"]["post"]
    assert "201" in post["responses"] and "requestBody" in post


def test_any_json_in_an_item_is_a_400_naming_the_field(api, cu_structure):
    """The fuzzer's find: a structure or model given as an object or a list was a 500."""
    items = [item(cu_structure), {"kind": "single_point", "structure": {"id": 1}, "model": ["emt"]}]
    response = api.post(URL, {"tasks": items}, format="json")
    assert response.status_code == 400, response.content
    report = response.json()["details"]["tasks"]
    assert [r["index"] for r in report] == [1] and {"structure", "model"} <= set(report[0]["errors"])
    assert not Task.objects.exists()
