"""Alert rules, webhook target validation, real delivery (local HTTP server), e-mail, queue depth."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail

from alerts_app.models import Alert, AlertRule
from alerts_app.services import check_queue_depth, on_task_status
from alerts_app.tasks import deliver
from alerts_app.transports import TransportError, validate_webhook_url
from tasks_app.choices import TaskStatus
from tasks_app.services import enqueue_task
from tasks_app.state import transition
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("ftp://example.org/x", "http or https"),
        ("http://127.0.0.1:8000/hook", "non-public"),
        ("http://localhost/hook", "non-public"),
        ("http://10.1.2.3/hook", "non-public"),
        ("http://169.254.169.254/latest/meta-data", "non-public"),
        ("http://[::1]/hook", "non-public"),
        ("https://user:pw@example.org/hook", "credentials"),
        ("http:///nohost", "no host"),
    ],
)
def test_webhook_targets_must_be_public(url, needle):
    with pytest.raises(TransportError, match=needle):
        validate_webhook_url(url)


def test_the_api_refuses_a_private_webhook_with_a_400(owner):
    response = client_for(owner).post(
        "/api/v1/alerts/rules/",
        {"name": "x", "event": "task_failed", "transport": "webhook", "target": "http://127.0.0.1:9/x"},
        format="json",
    )
    assert response.status_code == 400 and "target" in response.json()["details"]


def test_researchers_cannot_subscribe_to_pool_events(owner):
    response = client_for(owner).post(
        "/api/v1/alerts/rules/",
        {"name": "x", "event": "node_offline", "transport": "email", "target": "me@example.org"},
        format="json",
    )
    assert response.status_code == 400 and "event" in response.json()["details"]


class Hook(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_server():
    Hook.received = []
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()


def failed_task(owner):
    task = enqueue_task(owner=owner, kind="single_point", params={})
    transition(task, TaskStatus.FAILED, error="System exploded: |E| = 1e+06 eV")
    return task


def test_a_failed_task_raises_and_delivers_a_webhook_alert(
    owner, hook_server, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the test's receiver lives on loopback
    AlertRule.objects.create(name="mine", event="task_failed", transport="webhook", target=hook_server, owner=owner)
    with django_capture_on_commit_callbacks(execute=True):
        task = failed_task(owner)
    alert = Alert.objects.get()
    assert alert.event == "task_failed" and str(task.pk) in alert.message
    deliver(alert)
    alert.refresh_from_db()
    assert alert.delivery == "sent", alert.delivery_error
    assert Hook.received[0]["task_id"] == str(task.pk) and "exploded" in Hook.received[0]["error"]


def test_other_peoples_failures_do_not_alert_me(owner, outsider):
    AlertRule.objects.create(name="mine", event="task_failed", transport="email", target="o@example.org", owner=owner)
    task = enqueue_task(owner=outsider, kind="single_point", params={})
    transition(task, TaskStatus.FAILED, error="x")
    assert on_task_status(task) == []


def test_an_unreachable_webhook_is_recorded_as_failed(owner, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    rule = AlertRule.objects.create(
        name="dead", event="task_failed", transport="webhook", target="http://127.0.0.1:9/nothing-listens", owner=owner
    )
    alert = Alert.objects.create(rule=rule, event="task_failed", subject="s", message="m")
    deliver(alert)
    alert.refresh_from_db()
    assert alert.delivery == "failed" and "webhook request failed" in alert.delivery_error


def test_email_alerts(owner):
    rule = AlertRule.objects.create(
        name="mail", event="task_timeout", transport="email", target="me@example.org", owner=owner
    )
    alert = Alert.objects.create(rule=rule, event="task_timeout", subject="[mofsim] timeout", message="body")
    deliver(alert)
    assert mail.outbox[0].subject == "[mofsim] timeout" and mail.outbox[0].to == ["me@example.org"]


def test_queue_depth_alerts_once_per_excursion(operator, owner):
    AlertRule.objects.create(
        name="depth", event="queue_depth", transport="email", target="ops@example.org", threshold=2, owner=operator
    )
    for _ in range(3):
        enqueue_task(owner=owner, kind="single_point", params={})
    assert len(check_queue_depth()) == 1
    assert check_queue_depth() == []  # still above: no repeat
    from tasks_app.models import Task

    for task in Task.objects.all()[:2]:
        transition(task, TaskStatus.CANCELLED)
    assert check_queue_depth() == []  # back to normal (recorded, not alerted)
    enqueue_task(owner=owner, kind="single_point", params={})
    enqueue_task(owner=owner, kind="single_point", params={})
    assert len(check_queue_depth()) == 1  # a new excursion alerts again
