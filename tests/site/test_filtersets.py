"""List filtering through django-filter FilterSets: same parameters, 400s naming them, in the schema."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from structures_app.models import StructureSet, StructureSetMember
from tests.conftest import client_for, make_task

pytestmark = pytest.mark.django_db


def details(response, status=400):
    assert response.status_code == status, response.content
    return response.json()["details"]


def test_it_filters_tasks_by_status_list_kind_and_run(api, owner, cu_structure, emt, outsider):
    queued = make_task(owner, cu_structure, emt)
    make_task(owner, cu_structure, emt, kind="optimization")
    make_task(outsider, cu_structure, emt)
    ids = lambda query: {row["id"] for row in api.get(f"/api/v1/tasks/{query}").json()["results"]}  # noqa: E731
    assert ids("?status=pending, queued") == ids("") and len(ids("")) == 2
    assert ids("?kind=single_point") == {str(queued.pk)}
    assert ids("?kind=single_point&status=RUNNING") == set()
    assert ids("?benchmark_run=00000000-0000-0000-0000-000000000000") == set()
    # filters only narrow what visible_to(user) gives: the outsider's task stays hidden
    assert client_for(outsider).get("/api/v1/tasks/?kind=single_point").json()["count"] == 1


def test_bad_task_filters_are_400s_naming_the_parameter(api):
    assert details(api.get("/api/v1/tasks/?status=QUEUED,DONE")) == {"status": ["unknown status DONE"]}
    assert list(details(api.get("/api/v1/tasks/?kind=levitate"))) == ["kind"]
    assert details(api.get("/api/v1/tasks/?benchmark_run=1")) == {
        "benchmark_run": ["must be a benchmark run id (UUID)"]
    }


@pytest.mark.parametrize("params", [{"tag": "50%"}, {"tag": "%s%d"}, {"status": "%(x)s,RUNNING"}])
def test_a_percent_sign_in_a_bad_filter_value_is_a_400_not_a_500(api, params):
    response = api.get("/api/v1/tasks/", params)
    assert response.status_code == 400 and set(response.json()["details"]) == set(params), response.content


def test_log_filters_keep_their_messages(api, task):
    base = f"/api/v1/tasks/{task.pk}/logs/"
    assert details(api.get(base + "?level=LOUD")) == {"level": ["must be one of DEBUG, INFO, WARNING, ERROR"]}
    assert details(api.get(base + "?after=abc")) == {"after": ["must be a log line id"]}
    assert details(api.get(base + "?after=-3")) == {"after": ["must be a log line id"]}
    lines = api.get(base).json()["results"]
    assert lines, "a queued task has its log line"
    after = api.get(base + f"?after={lines[0]['id']}&level=info").json()["results"]
    assert [line["id"] for line in after] == [line["id"] for line in lines[1:] if line["level"] != "DEBUG"]


def test_structure_filters(api, owner, cu_structure, outsider):
    builtin = StructureSet.objects.create(slug="bench", builtin=True)
    StructureSetMember.objects.create(structure_set=builtin, structure=cu_structure, index=0)
    private = StructureSet.objects.create(slug="theirs", owner=outsider)
    names = lambda query: [row["name"] for row in api.get(f"/api/v1/structures/{query}").json()["results"]]  # noqa: E731
    assert names("?set=bench") == ["Cu-fcc"]
    assert names("?source=upload") == ["Cu-fcc"] and names("?source=builtin") == []
    assert list(details(api.get("/api/v1/structures/?source=magic"))) == ["source"]
    assert list(details(api.get("/api/v1/structures/?set=nope"))) == ["set"]
    assert list(details(api.get(f"/api/v1/structures/?set={private.slug}"))) == ["set"]  # a set you cannot see


def test_dataset_and_benchmark_kind_filters(api):
    assert api.get("/api/v1/datasets/?kind=fasta").json()["count"] == 0
    assert list(details(api.get("/api/v1/datasets/?kind=poetry"))) == ["kind"]
    assert api.get("/api/v1/benchmarks/?kind=optimization").json()["count"] == 0
    assert list(details(api.get("/api/v1/benchmarks/?kind=train_mace"))) == ["kind"]  # not a benchmark kind


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/api/v1/tasks/", {"status", "kind", "benchmark_run"}),
        ("/api/v1/tasks/{id}/logs/", {"level", "after"}),
        ("/api/v1/structures/", {"set", "source"}),
        ("/api/v1/datasets/", {"kind"}),
        ("/api/v1/benchmarks/", {"kind"}),
    ],
)
def test_filters_are_in_the_openapi_schema(path, names):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = {p["name"]: p for p in schema["paths"][path]["get"].get("parameters", []) if p["in"] == "query"}
    assert names <= set(parameters), parameters


def test_it_filters_tasks_by_tag_and_shows_their_notes_and_tags(api, owner, cu_structure, emt):
    from tasks_app.models import Task

    tagged = make_task(owner, cu_structure, emt)
    Task.objects.filter(pk=tagged.pk).update(notes="check D3", tags=["mof-5", "d3"])
    Task.objects.filter(pk=make_task(owner, cu_structure, emt).pk).update(tags=["mof-50"])
    rows = api.get("/api/v1/tasks/?tag=MOF-5").json()["results"]
    assert [(r["id"], r["notes"], r["tags"]) for r in rows] == [(str(tagged.pk), "check D3", ["mof-5", "d3"])]
    assert list(details(api.get("/api/v1/tasks/?tag=a%22b"))) == ["tag"]
