"""One URL style: every API endpoint ends in "/"; each old slash-less spelling still answers."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from drf_spectacular.generators import SchemaGenerator

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def api_routes(patterns=None, prefix=""):
    """Every route under ``api/v1/`` as ``(route text, name)``."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            yield route, pattern.name


def test_every_named_api_route_ends_in_a_slash():
    named = [route for route, name in api_routes() if name]
    assert len(named) > 40
    assert [route for route in named if not route.endswith("/")] == []


def test_every_route_without_the_slash_is_the_old_spelling_of_a_canonical_one():
    routes = dict(api_routes())
    for route, name in routes.items():
        if not route.endswith("/"):
            assert name is None and routes.get(route + "/"), route


def test_the_schema_documents_each_operation_once_with_the_slash():
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    assert [path for path in paths if not path.endswith("/")] == []
    assert "/api/v1/tasks/{kind}/" in paths and "/api/v1/jobs/" in paths and "/api/v1/nodes/heartbeat/" in paths


def test_reverse_gives_the_canonical_spelling():
    assert reverse("api:task-submit", kwargs={"kind": "single_point"}) == "/api/v1/tasks/single_point/"
    assert reverse("api:job-list") == "/api/v1/jobs/"
    assert reverse("api:login") == "/api/v1/auth/login/"


@pytest.mark.parametrize("old", ["/api/v1/tasks/single_point", "/api/v1/tasks/single_point/"])
def test_a_task_is_submitted_at_both_spellings(api, cu_structure, emt, old):
    response = api.post(old, {"structure": cu_structure.pk, "model": "emt"}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/jobs", 200),
        ("get", "/api/v1/system/queue", 200),
        ("get", "/api/v1/benchmarks/compare?runs=", 400),
        ("post", "/api/v1/auth/token", 201),
        ("post", "/api/v1/nodes/heartbeat", 401),
        ("post", "/api/v1/datasets/import-sqlite", 400),
    ],
)
def test_old_and_new_spellings_answer_alike(owner, method, path, status):
    client = client_for(owner) if "heartbeat" not in path else client_for(None)
    base, _, query = path.partition("?")
    for spelling in (base, base + "/"):
        url = spelling + (f"?{query}" if query else "")
        response = getattr(client, method)(url, {}, format="json") if method == "post" else client.get(url)
        assert response.status_code == status, (url, response.status_code, response.content[:300])
