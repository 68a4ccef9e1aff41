"""Request bodies are capped before they are read: by Content-Length and while streaming, for
WSGI and ASGI (daphne). On main a 60 MB body to a 20 MB endpoint was read in full first."""

import json

import pytest
from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import SimpleUploadedFile

from structures_app.models import Structure

pytestmark = pytest.mark.django_db
SIXTY_MB = 60 * 1024 * 1024


class UnreadableBody:
    """A wsgi.input that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def assert_413_shape(response, needle):
    assert response.status_code == 413, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details", "request_id"} and body["code"] == "too_large"
    assert needle in body["message"] and body["request_id"] == response["X-Request-ID"]


def test_wsgi_refuses_a_declared_60_mb_upload_without_reading_it(api):
    response = api.post(
        "/api/v1/structures/",
        data=b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(SIXTY_MB),
        **{"wsgi.input": UnreadableBody()},
    )
    assert_413_shape(response, f"limit of {20 * 1024 * 1024 + 1024 * 1024} bytes")


def test_wsgi_refuses_an_oversize_json_body_with_the_json_shape(api):
    body = json.dumps({"params": {"x": "y" * (11 * 1024 * 1024)}})
    response = api.post("/api/v1/tasks/optimization", data=body, content_type="application/json")
    assert_413_shape(response, "request body is larger than the limit of 10485760 bytes")


def test_a_multipart_file_is_stopped_at_its_limit_while_streaming(api, settings):
    """The declared length fits the multipart slack; the file bytes are counted as they arrive."""
    settings.STRUCTURE_UPLOAD_MAX_BYTES = 1000
    content = b"data_x\n" + b"#" * 5000 + b"\n"
    response = api.post("/api/v1/structures/", {"file": SimpleUploadedFile("x.cif", content)}, format="multipart")
    assert_413_shape(response, "limit of 1000 bytes")
    assert Structure.objects.count() == 0


def test_the_upload_page_is_capped_too(client, owner, settings):
    settings.STRUCTURE_UPLOAD_MAX_BYTES = 1000
    client.force_login(owner)
    response = client.post("/structures/upload/", {"file": SimpleUploadedFile("x.cif", b"#" * 5000)})
    assert response.status_code == 413 and b"limit of 1000 bytes" in response.content


def asgi_post(path, headers, chunks):
    """Drive the real ASGI application; returns (status, body, bytes the app pulled)."""
    from mofsim_site.asgi import application

    pulled = {"bytes": 0}
    sent = []
    source = iter(chunks)

    async def receive():
        chunk = next(source, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled["bytes"] += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    async_to_sync(application)(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, pulled["bytes"]


def test_asgi_refuses_a_declared_60_mb_body_before_reading_any_of_it():
    chunks = (b"x" * 1024 * 1024 for _ in range(60))
    headers = [(b"content-length", str(SIXTY_MB).encode()), (b"content-type", b"multipart/form-data; boundary=x")]
    status, body, pulled = asgi_post("/api/v1/structures/", headers, chunks)
    assert status == 413 and pulled == 0
    assert json.loads(body)["code"] == "too_large"


def test_asgi_stops_a_body_without_content_length_at_the_limit(settings):
    settings.STRUCTURE_UPLOAD_MAX_BYTES = 1024 * 1024  # body limit = 1 MiB + 1 MiB multipart slack
    chunk = b"x" * 64 * 1024
    status, body, pulled = asgi_post(
        "/api/v1/structures/", [(b"content-type", b"text/plain")], (chunk for _ in range(960))
    )
    assert status == 413 and json.loads(body)["code"] == "too_large"
    assert pulled <= 2 * 1024 * 1024 + len(chunk), f"read {pulled} bytes of a 60 MB body"
