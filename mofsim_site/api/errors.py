"""One JSON error shape for the whole API: ``{code, message, details, request_id}``."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "conflict with the current state"
    default_code = "conflict"


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
    details = response.data
    codes = _codes(exc)
    code = codes if isinstance(codes, str) else ("invalid" if isinstance(exc, exceptions.ValidationError) else "error")
    if isinstance(details, dict) and set(details) == {"detail"}:
        details = {}
        message = str(exc.detail)
    else:
        message = _message(details)
    response.data = {
        "code": code,
        "message": message,
        "details": details,
        "request_id": getattr(request, "request_id", None) if request is not None else None,
    }
    return response


def error_response(code: str, message: str, http_status: int, request=None, details=None) -> Response:
    return Response(
        {
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": getattr(request, "request_id", None),
        },
        status=http_status,
    )
