"""The client's address, trusting ``X-Forwarded-For`` only as far as the configured proxies go.

Each proxy appends the address it received the connection from, so with ``TRUSTED_PROXY_COUNT``
= N the client is the N-th entry from the right; anything further left was written by the
client and is ignored. With 0 (the default: no proxy), only ``REMOTE_ADDR`` counts — rotating
the header then changes nothing. DRF's throttles use the same rule through ``NUM_PROXIES``.
"""

from django.conf import settings


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return forwarded[-count]
