"""Structured logs (issue 14): JSON lines with request and task context, a daily rotating file,
signed URLs still redacted; the worker binds the task id."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mofsim_site.logging import ContextFilter
from tests.conftest import make_task, wait_for

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, logging, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mofsim_site.settings")
import django
django.setup()
from django.http import HttpResponse
from django.test import RequestFactory
from mofsim_site.logging import RequestLogMiddleware, bind
from mofsim_site.middleware import RequestIdMiddleware

class Alice:
    is_authenticated = True
    def get_username(self):
        return "alice"

def view(request):
    request.user = Alice()  # as an authentication class would set it
    return HttpResponse(status=201)

RequestIdMiddleware(RequestLogMiddleware(view))(
    RequestFactory().get("/api/v1/jobs/data/SIGNEDTOKEN123?x=1", HTTP_X_REQUEST_ID="req-42"))
with bind(task_id="task-7"):
    logging.getLogger("mofsim.task.abc").warning("E = %s eV", 1.5)
logging.getLogger("other").info("after the task")
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("other").exception("fetching /api/v1/jobs/data/OTHERSECRET failed")
handler = next(h for h in logging.getLogger().handlers if type(h).__name__ == "TimedRotatingFileHandler")
facts = {"when": handler.when, "utc": handler.utc, "backup": handler.backupCount, "file": handler.baseFilename}
print(json.dumps(facts))
"""


def test_json_logs_carry_request_and_task_context_into_a_daily_rotated_file(tmp_path, settings):
    env = {**os.environ, "WORKDIR": str(tmp_path), "LOG_FORMAT": "json", "LOG_FILE": "web.log",
           "LOG_BACKUP_DAYS": "14", "REDIS_URL": settings.REDIS_URL,
           "DJANGO_SETTINGS_MODULE": "mofsim_site.settings"}  # fmt: skip
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    handler = json.loads(run.stdout.strip().splitlines()[-1])
    assert handler == {"when": "MIDNIGHT", "utc": True, "backup": 14, "file": str(tmp_path / "logs" / "web.log")}

    text = (tmp_path / "logs" / "web.log").read_text()
    assert "SIGNEDTOKEN123" not in text and "OTHERSECRET" not in text
    records = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    request = next(r for r in records if r["logger"] == "mofsim.request")
    assert request["request_id"] == "req-42" and request["user"] == "alice"
    assert request["method"] == "GET" and request["status"] == 201 and request["duration_ms"] >= 0
    assert request["path"] == "/api/v1/jobs/data/[redacted]?x=1"
    task = next(r for r in records if r["logger"] == "mofsim.task.abc")
    assert task["task_id"] == "task-7" and task["level"] == "WARNING" and task["message"] == "E = 1.5 eV"
    after = [r for r in records if r["logger"] == "other"]
    assert "task_id" not in after[0]  # the context ended with the task
    assert "ZeroDivisionError" in after[1]["exc"]
    assert all(line.startswith("{") for line in run.stderr.splitlines() if line.strip())  # console is JSON too


@pytest.mark.django_db(transaction=True)
def test_the_worker_binds_the_task_id_to_its_records(owner, cu_structure, emt, worker):
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            if record.name.startswith("mofsim.task."):
                seen.append((record.getMessage(), record.task_id))

    handler = Keep()
    handler.addFilter(ContextFilter())
    logging.getLogger().addHandler(handler)
    try:
        task = make_task(owner, cu_structure, emt)
        wait_for(lambda: any(m.startswith("E = ") for m, _ in seen), timeout=60)
    finally:
        logging.getLogger().removeHandler(handler)
    assert seen and {task_id for _, task_id in seen} == {str(task.pk)}
