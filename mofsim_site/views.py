"""Site-wide views: the unauthenticated health check, and error handlers that answer ``/api/``
in the API's JSON error shape (pages keep Django's HTML templates)."""

from django.db import connection
from django.http import JsonResponse
from django.views import defaults

from mofsim_site.api.errors import json_error


def health(request):
    """Liveness + database reachability; the only endpoint besides login without auth."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # noqa: BLE001
        database = "unreachable"
    code = 200 if database == "ok" else 503
    return JsonResponse({"status": "ok" if code == 200 else "degraded", "database": database}, status=code)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def bad_request(request, exception):
    if _is_api(request):
        return json_error(request, "bad_request", "the request could not be read", 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _is_api(request):
        return json_error(request, "permission_denied", "you do not have permission to do this", 403)
    return defaults.permission_denied(request, exception)


def not_found(request, exception):
    if _is_api(request):
        return json_error(request, "not_found", f"no such endpoint: {request.method} {request.path}", 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return json_error(request, "server_error", "internal error; quote the request_id when reporting it", 500)
    return defaults.server_error(request)
