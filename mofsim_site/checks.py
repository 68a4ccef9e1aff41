"""Start-up sanity checks with stable ids (``manage.py check`` runs them)."""

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def mofsim_checks(app_configs, **kwargs):
    problems = []
    if settings.TIME_ZONE != "UTC":
        problems.append(Error("TIME_ZONE must be UTC: task times are compared across nodes", id="mofsim.E002"))
    if not settings.DEBUG and settings.EMBEDDED_REDIS and not settings.EMBEDDED:
        problems.append(
            Error(
                "DATABASE_URL is set but REDIS_URL is not: remote workers cannot reach an embedded broker",
                id="mofsim.E001",
            )
        )
    if not settings.EMBEDDED and not settings.WORKER_GPUS:
        problems.append(Warning("WORKER_GPUS is empty: workers will use every visible GPU", id="mofsim.W001"))
    return problems
