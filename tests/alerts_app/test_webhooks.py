"""Webhooks are signed and go to the address that passed the SSRF check (issue 10, finding 8)."""

import hashlib
import hmac
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from alerts_app.models import Alert, AlertRule
from alerts_app.tasks import deliver

pytestmark = pytest.mark.django_db


def verify(secret: str, header: str, body: bytes, tolerance_s: int = 300) -> bool:
    """The receiver's check, as docs/security.md shows it."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return abs(time.time() - timestamp) <= tolerance_s and hmac.compare_digest(expected, parts["v1"])


class Receiver(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.seen.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    Receiver.seen = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()


def test_a_delivered_webhook_carries_a_signature_the_receiver_can_verify(owner, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True  # the receiver is on loopback
    rule = AlertRule.objects.create(name="r", event="task_failed", transport="webhook",
                                    target=f"http://localhost:{receiver}/hook?x=1", owner=owner)  # fmt: skip
    other = AlertRule.objects.create(
        name="o", event="task_failed", transport="webhook", target="http://x/", owner=owner
    )
    assert len(rule.secret) == 64 and rule.secret != other.secret
    alert = deliver(Alert.objects.create(rule=rule, event="task_failed", subject="s", message="m"))
    assert alert.delivery == "sent", alert.delivery_error
    headers, body = Receiver.seen[0]
    assert headers["Host"] == f"localhost:{receiver}"
    assert verify(rule.secret, headers["X-Mofsim-Signature"], body)
    assert not verify(other.secret, headers["X-Mofsim-Signature"], body)
    assert not verify(rule.secret, headers["X-Mofsim-Signature"], body.replace(b'"m"', b'"M"'))


def test_the_owner_reads_the_secret_from_the_api(owner):
    from tests.conftest import client_for

    response = client_for(owner).post(
        "/api/v1/alerts/rules/",
        {"name": "x", "event": "task_failed", "transport": "email", "target": "me@example.org", "secret": "mine"},
        format="json",
    )
    assert response.status_code == 201
    secret = response.json()["secret"]
    assert len(secret) == 64 and secret == AlertRule.objects.get().secret  # generated, not the client's


def test_the_connection_goes_to_the_address_that_passed_the_check(owner, monkeypatch):
    """A rebinding resolver: public for the first lookup, private for any later one."""
    real = socket.getaddrinfo
    lookups, connects = [], []

    def rebinding(host, port, *args, **kwargs):
        if host == "hooks.example.org":
            lookups.append(host)
            address = "93.184.216.34" if len(lookups) == 1 else "10.0.0.5"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    def connect(sock, address):
        connects.append(address[0])
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket.socket, "connect", connect)
    rule = AlertRule.objects.create(name="r", event="task_failed", transport="webhook",
                                    target="http://hooks.example.org/hook", owner=owner)  # fmt: skip
    alert = deliver(Alert.objects.create(rule=rule, event="task_failed", subject="s", message="m"))
    assert alert.delivery == "failed"
    assert connects and set(connects) == {"93.184.216.34"}, connects
    assert lookups == ["hooks.example.org"]  # resolved once
