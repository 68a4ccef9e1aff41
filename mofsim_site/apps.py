import os

from django.apps import AppConfig
from django.conf import settings

from mofsim_site import embedded_redis


class MofsimSiteConfig(AppConfig):
    name = "mofsim_site"
    verbose_name = "mofsim"

    def ready(self):
        # Files this process creates under WORKDIR (SQLite DB, uploads, artifacts) are private to
        # its user; the DB and the key written before this point are tightened explicitly.
        os.umask(0o077)
        for name in ("secret_key", "db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
            path = settings.WORKDIR / name
            if path.exists():
                path.chmod(0o600)
        from mofsim_site import checks, credentials  # noqa: F401 - registers system checks
        from mofsim_site.api import schema  # noqa: F401 - registers the OpenAPI auth extensions

        credentials.connect()

        for sub in ("tmp", "logs", "artifacts", "raw"):
            (settings.WORKDIR / sub).mkdir(parents=True, exist_ok=True)
        if settings.EMBEDDED_REDIS:
            embedded_redis.ensure_running(settings.WORKDIR)
