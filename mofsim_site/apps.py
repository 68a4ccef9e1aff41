from django.apps import AppConfig
from django.conf import settings


class MofsimSiteConfig(AppConfig):
    name = "mofsim_site"
    verbose_name = "mofsim"

    def ready(self):
        from mofsim_site import checks, credentials  # noqa: F401 - registers system checks

        credentials.connect()

        for sub in ("tmp", "logs", "artifacts", "raw"):
            (settings.WORKDIR / sub).mkdir(parents=True, exist_ok=True)
        if settings.EMBEDDED_REDIS:
            from mofsim_site import embedded_redis

            embedded_redis.ensure_running(settings.WORKDIR)
