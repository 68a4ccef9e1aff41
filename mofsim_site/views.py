"""Site-wide views: the unauthenticated health check."""

from django.db import connection
from django.http import JsonResponse


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
