"""The OpenAPI schema states what clients need: multipart ``file`` uploads, required fields and
the error responses. On main uploads took the response model as body (no ``file``), task submit
required nothing and no error response was documented."""

import pytest
from drf_spectacular.generators import SchemaGenerator

UPLOADS = ["/api/v1/structures/", "/api/v1/datasets/", "/api/v1/datasets/import-sqlite/", "/api/v1/models/"]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def resolve(schema, ref):
    return schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]


@pytest.mark.parametrize("path", UPLOADS)
def test_uploads_declare_a_multipart_binary_file(schema, path):
    body = schema["paths"][path]["post"]["requestBody"]
    component = resolve(schema, body["content"]["multipart/form-data"]["schema"])
    assert component["properties"]["file"]["type"] == "string"
    assert component["properties"]["file"]["format"] == "binary"
    assert "file" in component["required"]


def test_task_submit_requires_a_structure_and_lists_the_kinds(schema):
    operation = schema["paths"]["/api/v1/tasks/{kind}/"]["post"]
    body = resolve(schema, operation["requestBody"]["content"]["application/json"]["schema"])
    assert body["required"] == ["structure"]
    (kind,) = [p for p in operation["parameters"] if p["name"] == "kind"]
    assert "optimization" in kind["schema"]["enum"] and "train_dms" not in kind["schema"]["enum"]


def test_every_operation_documents_the_error_shape(schema):
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            expected = {"400", "401", "403", "404", "429"}
            if method in ("post", "put", "patch", "delete"):
                expected |= {"409", "413"}
            for status in expected:
                content = operation["responses"].get(status, {}).get("content", {})
                if content.get("application/json", {}).get("schema") != {"$ref": "#/components/schemas/Error"}:
                    missing.append(f"{method.upper()} {path} {status}")
    assert not missing, missing[:10]
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"code", "message", "details", "request_id"}


@pytest.mark.django_db
def test_training_kinds_are_not_submitted_through_the_task_endpoint(api):
    """Its DatasetRefField trusts the jobs API to have resolved the dataset for this user."""
    body = {
        "params": {
            "data": {"scores": {"dataset": "00000000-0000-0000-0000-000000000000", "sha256": "x", "file_format": "csv"}}
        }
    }
    response = api.post("/api/v1/tasks/train_dms", body, format="json")
    assert response.status_code == 404 and "submit it at /api/v1/jobs" in response.json()["message"]
