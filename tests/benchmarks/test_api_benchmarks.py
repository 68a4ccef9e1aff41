"""Benchmarks API: create (one task per structure, sent on commit), list, detail, CSV, compare."""

import csv
import io

import pytest

from tasks_app.models import BenchmarkRun, Task
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def create(api, **body):
    payload = {"kind": "optimization", "model": "emt", "structure_set": "cu-pair", "preset": "quick", **body}
    return api.post("/api/v1/benchmarks/", payload, format="json")


def test_it_creates_a_run_with_one_queued_task_per_structure(
    api, owner, cu_set, emt, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = create(api, params={"fmax": 0.02}, priority="LOW")  # above NORMAL is for staff
    assert response.status_code == 201, response.content
    body = response.json()
    run = BenchmarkRun.objects.get(pk=body["run"]["id"])
    assert (run.owner, run.kind, run.model.name, run.structure_set.slug) == (owner, "optimization", "emt", "cu-pair")
    tasks = list(run.tasks.order_by("created_at"))
    assert [t.structure.name for t in tasks] == ["Cu-wide", "Cu-tight"]
    assert {t.status for t in tasks} == {"QUEUED"}
    assert {t.priority for t in tasks} == {0}
    assert tasks[0].params["fmax"] == 0.02 and tasks[0].params["steps"] == 100  # quick preset + override
    # One wake-up message per task, sent only when the transaction commits.
    assert len(callbacks) >= 2
    assert [r["structure"] for r in body["rows"]] == ["Cu-wide", "Cu-tight"]
    assert body["run"]["state"] == "QUEUED"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"params": {"fmax": -1}}, "params"),
        ({"params": {"fmx": 0.1}}, "params"),
        ({"kind": "no_such_kind"}, "kind"),
        ({"structure_set": "nope"}, "structure_set"),
        ({"model": "not-a-model"}, "model"),
        ({"preset": "fast"}, "preset"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(api, cu_set, emt, body, field):
    response = create(api, **body)
    assert response.status_code == 400, response.content
    error = response.json()
    assert field in error["details"], error
    assert not BenchmarkRun.objects.exists() and not Task.objects.exists()


def test_it_accepts_an_explicit_structure_list_but_not_someone_elses(api, outsider, cu_set, emt):
    ids = list(cu_set.ordered_structures().values_list("id", flat=True))
    response = api.post(
        "/api/v1/benchmarks/",
        {"kind": "optimization", "model": "emt", "structures": ids[::-1], "preset": "quick"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert [r["structure"] for r in response.json()["rows"]] == ["Cu-tight", "Cu-wide"]
    assert response.json()["run"]["structure_set"] is None

    theirs = client_for(outsider).post(
        "/api/v1/benchmarks/", {"kind": "optimization", "model": "emt", "structures": ids}, format="json"
    )
    assert theirs.status_code == 400 and "structures" in theirs.json()["details"]
    # …nor may they use the owner's private set.
    assert create(client_for(outsider)).status_code == 400


def test_it_lists_and_details_only_the_owners_runs(api, outsider, operator, cu_set, emt):
    run_id = create(api).json()["run"]["id"]
    listing = api.get("/api/v1/benchmarks/").json()
    assert [r["id"] for r in listing["results"]] == [run_id]
    assert listing["results"][0]["n_tasks"] == 2 and listing["results"][0]["n_finished"] == 0

    other = client_for(outsider)
    assert other.get("/api/v1/benchmarks/").json()["results"] == []
    for path in ("", "report.csv", "report.json"):
        assert other.get(f"/api/v1/benchmarks/{run_id}/{path}").status_code == 404
    assert client_for(operator).get(f"/api/v1/benchmarks/{run_id}/").status_code == 200
    assert client_for(None).get("/api/v1/benchmarks/").status_code in (401, 403)


def test_the_detail_and_downloads_report_finished_tasks(api, cu_set, emt, run_inline):
    run_id = create(api).json()["run"]["id"]
    for task in Task.objects.filter(benchmark_run_id=run_id):
        run_inline(task, device="cpu")

    body = api.get(f"/api/v1/benchmarks/{run_id}/").json()
    assert body["run"]["state"] == "COMPLETED"
    wide, tight = body["rows"]
    assert wide["status"] == "COMPLETED" and wide["steps"] > 0
    assert wide["volume_change_pct"] < -5  # a = 3.70 Å shrinks towards EMT's 3.59 Å
    assert wide["volume_vs_dft_pct"] == pytest.approx(100 * (wide["volume_final_a3"] / 46.3 - 1))
    assert tight["dft_volume_a3"] is None and tight["volume_vs_dft_pct"] is None
    assert body["summary"]["volume"]["n"] == 1 and body["summary"]["volume"]["within_10pct"] == 1
    assert body["summary"]["speed"]["devices"] == ["cpu"]

    response = api.get(f"/api/v1/benchmarks/{run_id}/report.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["structure"] for r in rows] == ["Cu-wide", "Cu-tight"]
    assert float(rows[0]["volume_vs_dft_pct"]) == pytest.approx(wide["volume_vs_dft_pct"])
    assert rows[1]["volume_vs_dft_pct"] == ""

    download = api.get(f"/api/v1/benchmarks/{run_id}/report.json")
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    assert download.json()["summary"] == body["summary"]


def test_it_compares_runs_side_by_side(api, outsider, cu_set, emt, builtin_models, run_inline):
    first = create(api).json()["run"]["id"]
    second = create(api, params={"fmax": 0.2, "steps": 3}).json()["run"]["id"]
    for task in Task.objects.filter(benchmark_run_id=first):
        run_inline(task, device="cpu")

    response = api.get(f"/api/v1/benchmarks/compare?runs={first},{second}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["metric"] == "volume_vs_dft_pct" and body["same_structures"] is True
    assert [r["id"] for r in body["runs"]] == [first, second]
    wide = body["structures"][0]
    assert wide["structure"] == "Cu-wide"
    assert wide["values"][0] is not None and wide["values"][1] is None  # second run not run yet
    assert wide["statuses"] == ["COMPLETED", "QUEUED"]

    assert api.get(f"/api/v1/benchmarks/compare?runs={first}").status_code == 400
    assert api.get("/api/v1/benchmarks/compare?runs=x,y").status_code == 400
    assert client_for(outsider).get(f"/api/v1/benchmarks/compare?runs={first},{second}").status_code == 404


def test_it_refuses_to_compare_different_task_types(api, cu_set, emt):
    first = create(api).json()["run"]["id"]
    second = create(api, kind="single_point").json()["run"]["id"]
    response = api.get(f"/api/v1/benchmarks/compare?runs={first},{second}")
    assert response.status_code == 400 and "runs" in response.json()["details"]


def test_the_owner_tags_a_run_and_lists_runs_by_tag(api, outsider, operator, cu_set, emt):
    tagged_id = create(api).json()["run"]["id"]
    other_id = create(api).json()["run"]["id"]
    url = f"/api/v1/benchmarks/{tagged_id}/"
    response = api.patch(url, {"notes": "EMT baseline", "tags": ["Baseline", "cu", "cu"]}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["run"]["notes"], response.json()["run"]["tags"]) == ("EMT baseline", ["baseline", "cu"])
    run = BenchmarkRun.objects.get(pk=tagged_id)
    assert (run.notes, run.tags, run.kind) == ("EMT baseline", ["baseline", "cu"], "optimization")

    listed = api.get("/api/v1/benchmarks/", {"tag": "cu"}).json()["results"]
    assert [r["id"] for r in listed] == [tagged_id] and listed[0]["tags"] == ["baseline", "cu"]
    assert api.get("/api/v1/benchmarks/", {"tag": "c"}).json()["results"] == []  # whole tags only
    assert len(api.get("/api/v1/benchmarks/").json()["results"]) == 2 and other_id
    bad = api.get("/api/v1/benchmarks/", {"tag": "no/slash"})
    assert bad.status_code == 400 and "tag" in bad.json()["details"]

    for body, field in (({"tags": ["a b/c"]}, "tags"), ({"tags": 5}, "tags"), ({"kind": "stability"}, "notes")):
        response = api.patch(url, body, format="json")
        assert response.status_code == 400 and field in response.json()["details"], (body, response.content)
    assert client_for(outsider).patch(url, {"notes": "mine"}, format="json").status_code == 404
    assert client_for(operator).patch(url, {"tags": "staff-checked"}, format="json").status_code == 200
    assert BenchmarkRun.objects.get(pk=tagged_id).tags == ["staff-checked"]
