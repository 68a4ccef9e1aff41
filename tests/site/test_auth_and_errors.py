"""Auth on every endpoint but health and login; JWT lifetimes; one error shape."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PROTECTED = [
    "/api/v1/tasks/",
    "/api/v1/tasks/types/",
    "/api/v1/structures/",
    "/api/v1/models/",
    "/api/v1/nodes/",
    "/api/v1/alerts/",
    "/api/v1/schema/?format=json",
]


def test_health_needs_no_login():
    response = APIClient().get("/health/")
    assert response.status_code == 200 and response.json()["database"] == "ok"


@pytest.mark.parametrize("url", PROTECTED)
def test_api_needs_auth(url):
    response = APIClient().get(url)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "message", "details", "request_id"}
    assert body["request_id"] == response["X-Request-ID"]


def test_pages_redirect_to_login(client):
    for url in ["/", "/structures/", "/nodes/", "/models/", "/alerts/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_jwt_login_refresh_and_lifetimes(owner):
    client = APIClient()
    bad = client.post("/api/v1/auth/login", {"username": "owner", "password": "wrong"}, format="json")
    assert bad.status_code == 401
    response = client.post("/api/v1/auth/login", {"username": "owner", "password": "owner-pass-123"}, format="json")
    assert response.status_code == 200
    tokens = response.json()
    from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

    access, refresh = AccessToken(tokens["access"]), RefreshToken(tokens["refresh"])
    assert access["exp"] - access["iat"] == 15 * 60
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/v1/tasks/").status_code == 200
    refreshed = APIClient().post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200 and "access" in refreshed.json()


def test_personal_tokens_work_too(owner):
    from mofsim_site.models import PersonalToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {PersonalToken.issue(owner)}")
    assert client.get("/api/v1/tasks/").status_code == 200


def test_bad_params_get_a_400_naming_the_field(api, cu_structure, emt):
    cases = [
        ({"fmax": -1}, "fmax"),
        ({"optimizer": "Newton"}, "optimizer"),
        ({"stpes": 10}, "stpes"),
        ({"steps": "many"}, "steps"),
    ]
    for params, field in cases:
        response = api.post(
            "/api/v1/tasks/optimization",
            {"structure": cu_structure.pk, "model": "emt", "params": params},
            format="json",
        )
        assert response.status_code == 400, params
        body = response.json()
        assert field in body["details"]["params"], body
        assert field in body["message"]
    from tasks_app.models import Task

    assert Task.objects.count() == 0  # nothing half-created


def test_submit_errors(api, cu_structure, emt):
    assert api.post("/api/v1/tasks/teleport", {}, format="json").status_code == 404
    response = api.post("/api/v1/tasks/single_point", {"model": "emt"}, format="json")
    assert response.status_code == 400 and "structure" in response.json()["details"]
    response = api.post("/api/v1/tasks/single_point", {"structure": cu_structure.pk, "model": "nope"}, format="json")
    assert response.status_code == 400 and "model" in response.json()["details"]
    response = api.post(
        "/api/v1/tasks/single_point", {"structure": cu_structure.pk, "priority": "URGENT"}, format="json"
    )
    assert response.status_code == 400 and "priority" in response.json()["details"]


def test_list_filters_and_paging(api, cu_structure, emt):
    for _ in range(3):
        api.post("/api/v1/tasks/single_point", {"structure": cu_structure.pk, "model": "emt"}, format="json")
    body = api.get("/api/v1/tasks/?status=QUEUED&page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
    assert api.get("/api/v1/tasks/?status=COMPLETED").json()["count"] == 0
    bad = api.get("/api/v1/tasks/?status=DONE")
    assert bad.status_code == 400 and "status" in bad.json()["details"]


def test_outsiders_see_nothing_of_my_tasks(api, cu_structure, emt, outsider):
    from tests.conftest import client_for

    task_id = api.post(
        "/api/v1/tasks/single_point", {"structure": cu_structure.pk, "model": "emt"}, format="json"
    ).json()["id"]
    other = client_for(outsider)
    for suffix in ["", "result/", "logs/", "metrics/", "artifacts/"]:
        assert other.get(f"/api/v1/tasks/{task_id}/{suffix}").status_code == 404
    assert other.post(f"/api/v1/tasks/{task_id}/cancel/").status_code == 404
    assert other.get("/api/v1/tasks/").json()["count"] == 0


def test_log_lines_filter_by_level(api, cu_structure, emt, run_inline):
    from tasks_app.models import Task

    task_id = api.post(
        "/api/v1/tasks/single_point", {"structure": cu_structure.pk, "model": "emt"}, format="json"
    ).json()["id"]
    run_inline(Task.objects.get(pk=task_id), device="cpu")
    all_lines = api.get(f"/api/v1/tasks/{task_id}/logs/").json()["results"]
    assert any("E = " in line["message"] for line in all_lines)
    warnings = api.get(f"/api/v1/tasks/{task_id}/logs/?level=warning").json()["results"]
    assert all(line["level"] in ("WARNING", "ERROR") for line in warnings)
    assert api.get(f"/api/v1/tasks/{task_id}/logs/?level=LOUD").status_code == 400


def test_the_openapi_schema_is_complete_and_valid(api):
    """Every endpoint is described (no serializer guesses left) and the schema validates."""
    import warnings

    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    with warnings.catch_warnings(record=True):
        schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    paths = schema["paths"]
    assert "/api/v1/tasks/{kind}/" in paths and "/api/v1/nodes/heartbeat/" in paths
    assert "requestBody" in paths["/api/v1/nodes/heartbeat/"]["post"]
    assert paths["/api/v1/tasks/{id}/result/"]["get"]["responses"]["200"]["content"]
    assert "nodeToken" in schema["components"]["securitySchemes"]
    response = api.get("/api/v1/schema/?format=json")
    assert response.status_code == 200


def test_a_personal_token_is_created_rotated_and_revoked(owner):
    client = APIClient()
    access = client.post("/api/v1/auth/login", {"username": "owner", "password": "owner-pass-123"},
                         format="json").json()["access"]  # fmt: skip
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    first = client.post("/api/v1/auth/token").json()["token"]
    second = client.post("/api/v1/auth/token").json()["token"]
    assert first != second
    scripted = APIClient()
    scripted.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert scripted.get("/api/v1/tasks/").status_code == 401  # rotated away
    scripted.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert scripted.get("/api/v1/tasks/").status_code == 200
    assert scripted.post("/api/v1/auth/token").status_code == 401  # a token cannot mint tokens
    assert client.delete("/api/v1/auth/token").status_code == 204
    assert scripted.get("/api/v1/tasks/").status_code == 401
