"""Private WORKDIR files, no credentials in logs, and a clean ``check --deploy`` (issue 10)."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from mofsim_site.log_redaction import RedactSignedUrls


@pytest.mark.django_db
def test_the_database_and_new_workdir_files_are_private_to_the_service_user():
    if connection.vendor == "sqlite":
        assert os.stat(connection.settings_dict["NAME"]).st_mode & 0o077 == 0
    key = settings.WORKDIR / "secret_key"
    if key.exists():
        assert key.stat().st_mode & 0o077 == 0
    fresh = settings.WORKDIR / "tmp" / "mode-probe"
    fresh.write_text("x")
    try:
        assert fresh.stat().st_mode & 0o077 == 0
    finally:
        fresh.unlink()


def test_signed_data_urls_are_redacted_in_access_logs():
    record = logging.LogRecord(
        "django.channels.server", logging.INFO, __file__, 1, "HTTP %s %s %s", ("GET",
        "/api/v1/jobs/data/eyJ0IjoiNyJ9:1tQ:abcdefSIG", 200), None,
    )  # fmt: skip
    RedactSignedUrls().filter(record)
    assert record.getMessage() == "HTTP GET /api/v1/jobs/data/[redacted] 200"
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Forbidden: %s",
                               ("/x?a=1&signature=deadbeef",), None)  # fmt: skip
    RedactSignedUrls().filter(record)
    assert record.getMessage() == "Forbidden: /x?a=1&signature=[redacted]"


def test_every_log_handler_and_access_logger_redacts():
    handlers = settings.LOGGING["handlers"]
    assert all("redact" in handler.get("filters", []) for handler in handlers.values())
    for name in ("django.server", "django.channels.server"):
        assert settings.LOGGING["loggers"][name]["handlers"] == ["console"]


PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k7#Qv9!zR2@pL5$wX8^mN3&bT6*yH1(cJ4)dF0_gS-eU+aW=iO~oY;" * 2,
    "ALLOWED_HOSTS": "mofsim.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://mofsim.example.org",
    "SECURE_COOKIES": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "TRUST_X_FORWARDED_PROTO": "true",
    "TRUSTED_PROXY_COUNT": "1",
    "DATABASE_URL": "postgres://mofsim@db.invalid:5432/mofsim",
    "REDIS_URL": "redis://redis.invalid:6379/0",
    "WORKER_GPUS": "0,1",
}


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    """The settings docs/operations.md lists for production; check --deploy must not warn."""
    env = {"PATH": os.environ["PATH"], "WORKDIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "mofsim_site.settings",
           **PRODUCTION_ENV}  # fmt: skip
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=root, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout
