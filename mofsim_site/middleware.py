"""Request ids (every response carries ``X-Request-ID``; API errors quote it) and body limits."""

import re
import uuid

from django.http import HttpResponse

from mofsim_site.api.errors import json_error
from mofsim_site.files import body_limit

_VALID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def request_id_from(incoming: str) -> str:
    """The client's ``X-Request-ID`` when it is a sane token, else a fresh one."""
    return incoming if _VALID.match(incoming) else uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request.headers.get("X-Request-ID", ""))
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def too_large(request, limit: int) -> HttpResponse:
    message = f"request body is larger than the limit of {limit} bytes for {request.path}"
    if request.path.startswith("/api/"):
        return json_error(request, "too_large", message, 413)
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")


class BodyLimitMiddleware:
    """413 before reading a body whose Content-Length is over the URL's limit (WSGI and ASGI),
    and 413 after a view whose multipart upload ``LimitedUploadHandler`` stopped mid-stream."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = body_limit(request.path)
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return too_large(request, limit)
        response = self.get_response(request)
        stopped = getattr(request, "upload_too_large", None)
        return too_large(request, stopped) if stopped is not None else response
