"""Webhook delivery: resolve once, check every address, connect to the checked one, sign the body.

Shared plumbing: alert webhooks (``alerts_app.transports``) and per-task callbacks
(``tasks_app.callbacks``) both go through here, so the SSRF rules and the signature are written
once.

DNS rebinding: checking a name and then letting an HTTP client resolve it again lets a hostile
DNS server answer "public" to the check and "10.0.0.5" to the connection. Here the name is
resolved exactly once, every address it gave must be public (unless ``WEBHOOK_ALLOW_PRIVATE``),
and the request goes to the first of those addresses, with the name only in the ``Host`` header
and, for https, in SNI and certificate verification — so the certificate is still checked for
the name.

Signature (docs/security.md has a verification snippet): ``X-Mofsim-Signature: t=<unix ts>,v1=<hex>``
where ``v1 = HMAC-SHA256(secret, f"{t}.{body}")`` over the exact body bytes sent (the alert rule's
or the task callback's secret).
"""

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from urllib.parse import urlparse

import certifi
import urllib3
from django.conf import settings

SIGNATURE_HEADER = "X-Mofsim-Signature"
TIMEOUT_S = 10


class WebhookError(Exception):
    pass


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def check_url(url: str):
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"}:
        raise WebhookError("webhook URL must use http or https")
    if not parsed.hostname:
        raise WebhookError("webhook URL has no host")
    if parsed.username or parsed.password:
        raise WebhookError("webhook URL must not contain credentials")
    return parsed


def validate_url(url: str) -> str:
    """The check made when a target is saved: the URL's shape, and (unless private targets are
    allowed) that its host resolves only to public addresses. Delivery checks again."""
    check_url(url)
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        resolve(url)
    return url


def resolve(url: str) -> str:
    """The one address to connect to for ``url``: resolved once, every answer checked."""
    parsed = check_url(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parsed.hostname, port, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise WebhookError(f"webhook host {parsed.hostname!r} does not resolve") from exc
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        for address in addresses:
            if not address.is_global:
                raise WebhookError(f"webhook host {parsed.hostname!r} resolves to a non-public address ({address})")
    if not addresses:
        raise WebhookError(f"webhook host {parsed.hostname!r} has no address")
    return str(addresses[0])


def post(url: str, payload: dict, secret: str, extra_headers: dict | None = None) -> int:
    """POST ``payload`` as signed JSON to the checked address of ``url``; returns the status."""
    parsed = check_url(url)
    address = resolve(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    host_header = parsed.hostname if parsed.port is None else f"{parsed.hostname}:{parsed.port}"
    headers = {
        "Host": host_header,
        "Content-Type": "application/json",
        "User-Agent": "mofsim-webhook/1",
        SIGNATURE_HEADER: signature(secret, int(time.time()), body),
        **(extra_headers or {}),
    }
    if parsed.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port, server_hostname=parsed.hostname, assert_hostname=parsed.hostname,
            cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), timeout=TIMEOUT_S, retries=False,
        )  # fmt: skip
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=TIMEOUT_S, retries=False)
    path = (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else "")
    try:
        with pool:
            response = pool.urlopen("POST", path, body=body, headers=headers, redirect=False, assert_same_host=False)
    except urllib3.exceptions.HTTPError as exc:
        raise WebhookError(f"webhook request failed: {exc}") from exc
    return response.status
