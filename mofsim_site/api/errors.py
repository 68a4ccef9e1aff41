"""One JSON error shape for the whole API: ``{code, message, details, request_id}``.

DRF errors come through ``exception_handler``; errors raised outside DRF under ``/api/`` (no
such URL, a body over the limit, a 500) use ``json_error`` via the site's handlers and
middleware, so a client never has to parse Django's HTML. ``details`` is capped: a body with
100 000 unknown keys produced a 5.8 MB error listing each one.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "conflict with the current state"
    default_code = "conflict"


MAX_DETAILS = 20
MAX_MESSAGE = 2000


def cap_details(details):
    """At most ``MAX_DETAILS`` entries per level (recursively), with a count of what was left out."""
    if isinstance(details, dict):
        items = list(details.items())
        capped = {key: cap_details(value) for key, value in items[:MAX_DETAILS]}
        if len(items) > MAX_DETAILS:
            capped["truncated"] = f"{len(items) - MAX_DETAILS} more not shown"
        return capped
    if isinstance(details, list):
        capped = [cap_details(value) for value in details[:MAX_DETAILS]]
        if len(details) > MAX_DETAILS:
            capped.append(f"{len(details) - MAX_DETAILS} more not shown")
        return capped
    return details


def error_payload(code: str, message: str, request_id=None, details=None) -> dict:
    return {"code": code, "message": message, "details": details or {}, "request_id": request_id}


def json_error(request, code: str, message: str, http_status: int, details=None) -> JsonResponse:
    """The error shape outside DRF (Django handlers, middleware)."""
    payload = error_payload(code, message, getattr(request, "request_id", None), details)
    return JsonResponse(payload, status=http_status)


def _message(details) -> str:
    if isinstance(details, dict):
        parts = []
        for field, errors in details.items():
            text = errors[0] if isinstance(errors, list) and errors else errors
            if isinstance(text, dict):
                text = _message(text)
            parts.append(str(text) if field in ("detail", "non_field_errors") else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(details, list):
        return "; ".join(str(d) for d in details)
    return str(details)


def _codes(exc):
    try:
        return exc.get_codes()
    except AttributeError:
        return None


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_handler(exc, context)
    if response is None:
        return None
    request = context.get("request")
    details = cap_details(response.data)
    codes = _codes(exc)
    code = codes if isinstance(codes, str) else ("invalid" if isinstance(exc, exceptions.ValidationError) else "error")
    if isinstance(details, dict) and set(details) == {"detail"}:
        details = {}
        message = str(exc.detail)
    else:
        message = _message(details)
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    response.data = error_payload(code, message, getattr(request, "request_id", None), details)
    return response


def error_response(code: str, message: str, http_status: int, request=None, details=None) -> Response:
    return Response(error_payload(code, message, getattr(request, "request_id", None), details), status=http_status)
