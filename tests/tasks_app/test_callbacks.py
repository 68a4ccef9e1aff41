"""Per-task callbacks (issue 14): submitted with the task, POSTed by the service worker on the
chosen state changes, signed, retried with backoff, one delivery row per attempt."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

import tasks_app.callbacks  # noqa: F401 - declares the service-queue actor the worker consumes
from tasks_app.models import CallbackDelivery, TaskCallback
from tests.alerts_app.test_webhooks import verify
from tests.conftest import wait_for


class FlakyReceiver(BaseHTTPRequestHandler):
    """Answers each status in ``answers`` in turn (then 204), remembering what it got."""

    seen: list = []
    answers: list = []

    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        FlakyReceiver.seen.append((dict(self.headers), body))
        self.send_response(FlakyReceiver.answers.pop(0) if FlakyReceiver.answers else 204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    FlakyReceiver.seen, FlakyReceiver.answers = [], []
    server = HTTPServer(("127.0.0.1", 0), FlakyReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def submit(api, structure, **extra):
    return api.post("/api/v1/tasks/single_point", {"structure": structure.pk, "model": "emt", **extra}, format="json")


@pytest.mark.django_db(transaction=True)
def test_it_delivers_a_signed_callback_and_retries_after_a_500(
    api, owner_client, cu_structure, emt, worker, receiver, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on loopback
    settings.CALLBACK_RETRY_BASE_S = 0.3
    FlakyReceiver.answers = [500]

    response = submit(api, cu_structure, callback_url=receiver)
    assert response.status_code == 201, response.content
    body = response.json()
    task_id, secret = body["id"], body["callback"]["secret"]
    assert body["callback"]["events"] == ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"]
    assert len(secret) == 64 and TaskCallback.objects.get(task_id=task_id).secret == secret

    rows = wait_for(lambda: list(CallbackDelivery.objects.filter(task_id=task_id, outcome="delivered")), timeout=60)
    deliveries = list(CallbackDelivery.objects.filter(task_id=task_id).order_by("id"))
    assert [(d.attempt, d.outcome, d.status_code) for d in deliveries] == [(1, "retrying", 500), (2, "delivered", 204)]
    first, second = deliveries
    assert first.error == "HTTP 500" and first.next_retry_at is not None and second.next_retry_at is None
    assert second.created_at >= first.next_retry_at  # the retry waited for its backoff
    assert first.delivery_id == second.delivery_id == rows[0].delivery_id

    assert len(FlakyReceiver.seen) == 2
    for headers, raw in FlakyReceiver.seen:
        assert verify(secret, headers["X-Mofsim-Signature"], raw)
        assert not verify("another-secret-entirely", headers["X-Mofsim-Signature"], raw)
        assert headers["X-Mofsim-Event"] == "COMPLETED" and headers["X-Mofsim-Delivery"] == str(first.delivery_id)
    payload = json.loads(FlakyReceiver.seen[1][1])
    assert payload["task_id"] == task_id and payload["status"] == "COMPLETED" and payload["previous"] == "RUNNING"
    assert payload["kind"] == "single_point" and payload["finished_at"] and payload["started_at"]
    assert payload["result_url"].endswith(f"/api/v1/tasks/{task_id}/result/")

    log = api.get(f"/api/v1/tasks/{task_id}/callbacks/").json()
    assert log["callback"] == {"url": receiver, "events": ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"]}
    assert [(d["attempt"], d["outcome"], d["status_code"]) for d in log["deliveries"]] == [
        (1, "retrying", 500), (2, "delivered", 204),
    ]  # fmt: skip
    assert "secret" not in json.dumps(log)
    page = owner_client.get(f"/tasks/{task_id}/").content.decode()
    assert 'id="task-callbacks"' in page and "Failed, will retry" in page and "Delivered" in page


@pytest.mark.django_db(transaction=True)
def test_it_gives_up_after_the_last_attempt_and_sends_only_chosen_events(
    api, cu_structure, emt, worker, receiver, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.CALLBACK_RETRY_BASE_S = 0.05
    settings.CALLBACK_MAX_ATTEMPTS = 3
    FlakyReceiver.answers = [503] * 6
    response = submit(api, cu_structure, callback_url=receiver, callback_events=["RUNNING", "COMPLETED"],
                      callback_secret="s" * 32)  # fmt: skip
    assert response.status_code == 201 and "secret" not in response.json()["callback"]
    task_id = response.json()["id"]
    wait_for(lambda: CallbackDelivery.objects.filter(task_id=task_id, outcome="failed").count() == 2, timeout=60)
    rows = CallbackDelivery.objects.filter(task_id=task_id)
    assert sorted((r.event, r.attempt, r.outcome) for r in rows) == [
        ("COMPLETED", 1, "retrying"), ("COMPLETED", 2, "retrying"), ("COMPLETED", 3, "failed"),
        ("RUNNING", 1, "retrying"), ("RUNNING", 2, "retrying"), ("RUNNING", 3, "failed"),
    ]  # fmt: skip
    assert all(verify("s" * 32, h["X-Mofsim-Signature"], b) for h, b in FlakyReceiver.seen)


@pytest.mark.django_db
def test_it_refuses_bad_callback_input_naming_the_field(api, cu_structure, emt, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    cases = [
        ({"callback_url": "http://127.0.0.1:9/hook"}, "callback_url", "non-public"),
        ({"callback_url": "ftp://example.org/x"}, "callback_url", "http"),
        ({"callback_url": "http://user:pw@example.org/x"}, "callback_url", "credentials"),
        ({"callback_events": ["COMPLETED"]}, "callback_url", "required"),
        ({"callback_url": "http://93.184.216.34/x", "callback_events": ["DONE"]}, "callback_events", "DONE"),
        ({"callback_url": "http://93.184.216.34/x", "callback_secret": "short"}, "callback_secret", "16"),
    ]
    for extra, field, words in cases:
        response = submit(api, cu_structure, **extra)
        assert response.status_code == 400, (extra, response.content)
        body = response.json()
        assert body["code"] == "invalid" and field in body["details"] and body["request_id"], body
        assert words in json.dumps(body["details"][field]), body
    assert not TaskCallback.objects.exists()


@pytest.mark.django_db
def test_the_delivery_log_is_visible_only_to_who_sees_the_task(api, cu_structure, emt, outsider, operator):
    from tests.conftest import client_for

    task_id = submit(api, cu_structure).json()["id"]
    assert api.get(f"/api/v1/tasks/{task_id}/callbacks/").json() == {"callback": None, "deliveries": []}
    assert client_for(outsider).get(f"/api/v1/tasks/{task_id}/callbacks/").status_code == 404
    assert client_for(operator).get(f"/api/v1/tasks/{task_id}/callbacks/").status_code == 200
