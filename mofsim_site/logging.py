"""Structured logs (issue 14): JSON lines, request and task context, daily rotation.

- ``LOG_FORMAT=json`` writes one JSON object per record (``ts``, ``level``, ``logger``,
  ``message``, ``request_id``, ``user``, ``task_id``, any ``extra`` fields, ``exc``), for log
  shippers; ``plain`` (default) keeps the human format.
- ``RequestLogMiddleware`` logs each request once on ``mofsim.request``: method, path, status,
  duration, user, and the request id the API's error bodies quote (``X-Request-ID``). For a
  streamed response (SSE) the duration is the time to the first byte.
- The worker binds the task id (``bind(task_id=…)`` in ``tasks_app.tasks``) so every record the
  task's thread writes carries it. Context lives in ``contextvars``: per thread and per asyncio
  task, never leaking between requests.
- ``LOG_FILE`` (or ``LOG_DIR``) adds a ``TimedRotatingFileHandler`` that rotates at midnight UTC
  and keeps ``LOG_BACKUP_DAYS`` files named ``<file>.YYYY-MM-DD``. Rotation is per process: give
  each service its own ``LOG_FILE`` (web.log, workers.log).

The signed-URL redaction filter (``mofsim_site.log_redaction``) stays first on every handler; the
request path logged here is redacted too, since it travels as a field, not in the message.
"""

import contextvars
import json
import logging
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from mofsim_site.log_redaction import redact

request_id_var = contextvars.ContextVar("mofsim_request_id", default="")
user_var = contextvars.ContextVar("mofsim_user", default="")
task_id_var = contextvars.ContextVar("mofsim_task_id", default="")
_VARS = {"request_id": request_id_var, "user": user_var, "task_id": task_id_var}
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", *_VARS}


@contextmanager
def bind(**values):
    """Attach context (``request_id``, ``user``, ``task_id``) to every record logged inside."""
    tokens = [(_VARS[name], _VARS[name].set(str(value) if value is not None else "")) for name, value in values.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in _VARS.items():
            if not getattr(record, name, ""):
                setattr(record, name, var.get())
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _VARS:
            value = getattr(record, name, "")
            if value:
                out[name] = value
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class RequestLogMiddleware:
    """One ``mofsim.request`` record per request (after ``RequestIdMiddleware``)."""

    logger = logging.getLogger("mofsim.request")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        with bind(request_id=getattr(request, "request_id", "")):
            response = self.get_response(request)
            user = getattr(request, "user", None)
            username = user.get_username() if user is not None and user.is_authenticated else ""
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            path = redact(request.get_full_path())
            with bind(user=username):
                self.logger.info(
                    "%s %s %s %.1fms", request.method, path, response.status_code, duration_ms,
                    extra={"method": request.method, "path": path, "status": response.status_code,
                           "duration_ms": duration_ms},
                )  # fmt: skip
        return response


def configure(config: dict, *, fmt: str, log_file: str, log_dir: str, backup_days: int, log_requests: bool) -> dict:
    """Add the JSON formatter, the context filter and the rotating file to ``settings.LOGGING``."""
    if fmt not in {"plain", "json"}:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"LOG_FORMAT={fmt!r}: use plain or json")
    config["formatters"]["json"] = {"()": "mofsim_site.logging.JsonFormatter"}
    config["filters"]["context"] = {"()": "mofsim_site.logging.ContextFilter"}
    handlers = config["handlers"]
    for handler in handlers.values():
        handler["filters"] = [*handler.get("filters", []), "context"]
        handler["formatter"] = fmt
    if log_file or log_dir:
        path = Path(log_dir or ".") / (log_file or "mofsim.log")
        path.parent.mkdir(parents=True, exist_ok=True)
        handlers["file"] = {
            "class": "logging.handlers.TimedRotatingFileHandler", "filename": str(path), "when": "midnight",
            "utc": True, "backupCount": backup_days, "delay": True, "encoding": "utf-8", "formatter": fmt,
            "filters": ["redact", "context"],
        }  # fmt: skip
        for logger in [config["root"], *config["loggers"].values()]:
            if "handlers" in logger:
                logger["handlers"] = [*logger["handlers"], "file"]
    config["loggers"]["mofsim.request"] = {"level": "INFO" if log_requests else "WARNING"}
    return config
