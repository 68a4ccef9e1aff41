"""Typed exceptions carrying the API's error shape ``{code, message, details, request_id}``.

One class per HTTP meaning, all subclasses of ``MofsimError``, so a script can catch exactly what
it can handle (``except NotFound``) and still log the ``request_id`` an operator needs to find
the request in the server logs.
"""

from __future__ import annotations

from typing import Any

import httpx


class MofsimError(Exception):
    """An error answer from the API (or a transport failure, ``status`` 0)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        request_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.details: dict[str, Any] = details or {}
        super().__init__(f"HTTP {status} {code}: {message} (request {request_id})")


class ValidationError(MofsimError):
    """400: bad input; ``details`` names the fields."""


class AuthenticationError(MofsimError):
    """401: wrong credentials, or a token that can no longer be refreshed."""


class PermissionDenied(MofsimError):
    """403: authenticated but not allowed."""


class NotFound(MofsimError):
    """404: no such object, or not visible to you."""


class Conflict(MofsimError):
    """409: the object is in a state that forbids this (e.g. cancelling a finished task)."""


class PayloadTooLarge(MofsimError):
    """413: the upload exceeds the server's limit."""


class RateLimited(MofsimError):
    """429: throttled (login attempts, lockout)."""


class ServerError(MofsimError):
    """5xx: the server failed; ``request_id`` finds it in the server logs."""


class TaskTimeout(MofsimError, TimeoutError):
    """``wait()`` ran out of time; the task keeps running on the server."""


_BY_STATUS: dict[int, type[MofsimError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    429: RateLimited,
}


def error_from_response(response: httpx.Response) -> MofsimError:
    """The typed exception for an error response (reads the body; call after ``read()``)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"code": "error", "message": response.text[:200]}
    cls = _BY_STATUS.get(response.status_code, ServerError if response.status_code >= 500 else MofsimError)
    return cls(
        response.status_code,
        str(body.get("code", "error")),
        str(body.get("message", "")),
        body.get("request_id") or response.headers.get("X-Request-ID"),
        body.get("details") if isinstance(body.get("details"), dict) else None,
    )
