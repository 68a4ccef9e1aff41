"""Every error under /api/v1/ has the one JSON shape, bounded in size; hostile JSON is a 400.

On main: 404s were HTML, nested JSON raised RecursionError (a 500, even on login without an
account), ``1e999`` reached the database as infinity, ``?benchmark_run=notauuid`` was a 500 and
an error listing 100 000 unknown keys was 5.8 MB.
"""

import json

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
SHAPE = {"code", "message", "details", "request_id"}


def assert_shape(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == SHAPE and body["message"] and body["request_id"] == response["X-Request-ID"]
    return body


@pytest.mark.parametrize(
    "path", ["/api/v1/nope", "/api/v1/tasks/not-a-uuid/", "/api/v1/structures/99999999999999999999/"]
)
def test_unknown_api_urls_are_json_404s(api, path):
    assert_shape(api.get(path), 404)


def test_unknown_api_urls_are_json_404s_without_login_too():
    assert_shape(APIClient().get("/api/v1/nope"), 404)


def test_pages_keep_html_404s(client, owner):
    client.force_login(owner)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("body", [DEEP, '{"username": ' + "[" * 50 + "]" * 50 + "}"])
def test_deeply_nested_json_is_a_400_on_login_without_an_account(body):
    response = APIClient().post("/api/v1/auth/login", data=body, content_type="application/json")
    assert "nested deeper than 32 levels" in assert_shape(response, 400)["message"]


def test_deeply_nested_params_are_a_400(api, cu_structure, emt):
    body = f'{{"structure": {cu_structure.pk}, "model": "emt", "params": {DEEP}}}'
    assert_shape(api.post("/api/v1/tasks/single_point", data=body, content_type="application/json"), 400)


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN", "Infinity"])
def test_non_finite_numbers_are_a_400(api, number):
    body = f'{{"structure": {number}, "model": "emt"}}'
    response = api.post("/api/v1/tasks/single_point", data=body, content_type="application/json")
    assert assert_shape(response, 400)["code"] == "parse_error"


def test_a_bad_benchmark_run_filter_is_a_400(api):
    body = assert_shape(api.get("/api/v1/tasks/?benchmark_run=notauuid"), 400)
    assert body["details"] == {"benchmark_run": ["must be a benchmark run id (UUID)"]}


def test_an_error_listing_100000_unknown_keys_is_capped(api, cu_structure, emt):
    params = {f"k{i}": 1 for i in range(100_000)}
    body = json.dumps({"structure": cu_structure.pk, "model": "emt", "params": params})
    response = api.post("/api/v1/tasks/single_point", data=body, content_type="application/json")
    details = assert_shape(response, 400)["details"]["params"]
    assert len(response.content) < 10_000
    assert len(details) == 21 and details["truncated"] == "99980 more not shown"


def test_a_broken_multipart_body_is_a_json_400_with_a_message(client, owner):
    client.force_login(owner)
    response = client.post("/api/v1/structures/", data=b"--x\r\n", content_type="multipart/form-data")
    assert_shape(response, 400)


def test_an_empty_multipart_upload_names_the_missing_file(api):
    response = api.post("/api/v1/structures/", data=b"", content_type="multipart/form-data; boundary=x")
    assert assert_shape(response, 400)["details"] == {"file": ["No file was submitted."]}
