"""Alert transports behind one small interface (keyed by ``AlertRule.transport``).

Webhook targets are validated twice: when a rule is saved (``validate_webhook_url``) and again
just before sending, because DNS can change between the two. Private, loopback and link-local
addresses are refused unless ``WEBHOOK_ALLOW_PRIVATE`` is set (an on-premise operator's choice),
so a user cannot make the server probe its own network.
"""

import ipaddress
import socket
from urllib.parse import urlparse

import requests
from django.conf import settings
from django.core.mail import send_mail


class TransportError(Exception):
    pass


def validate_webhook_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"}:
        raise TransportError("webhook URL must use http or https")
    if not parsed.hostname:
        raise TransportError("webhook URL has no host")
    if parsed.username or parsed.password:
        raise TransportError("webhook URL must not contain credentials")
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return url
    try:
        infos = socket.getaddrinfo(parsed.hostname, parsed.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise TransportError(f"webhook host {parsed.hostname!r} does not resolve") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise TransportError(f"webhook host {parsed.hostname!r} resolves to a non-public address ({address})")
    return url


class Webhook:
    def send(self, target: str, subject: str, message: str, payload: dict) -> None:
        validate_webhook_url(target)
        try:
            response = requests.post(
                target, json={"subject": subject, "message": message, **payload}, timeout=10, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise TransportError(f"webhook request failed: {exc}") from exc
        if response.status_code >= 300:
            raise TransportError(f"webhook answered HTTP {response.status_code}")


class Email:
    def send(self, target: str, subject: str, message: str, payload: dict) -> None:
        send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, [target])


TRANSPORTS = {"webhook": Webhook, "email": Email}


def get_transport(name: str):
    return TRANSPORTS[name]()
