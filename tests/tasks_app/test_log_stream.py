"""The SSE log stream (issue 14), read through daphne (the production ASGI server) while a real
worker runs the task: lines arrive live and in order, a resume with Last-Event-ID gives only
newer lines, and the stream ends with the status event."""

import json
import time

import pytest
import requests

from tasks_app.models import Task
from tasks_app.services import enqueue_task

pytestmark = pytest.mark.django_db(transaction=True)
LINES = 8


def chatty(atoms, calculator, params, report):
    """Logs a numbered line every 0.3 s (the worker writes them in ~1 s batches)."""
    for i in range(LINES):
        report.log(f"chatty line {i}")
        time.sleep(0.3)
    return {"lines": LINES}


def login(url, username, password) -> dict:
    response = requests.post(f"{url}/api/v1/auth/login", json={"username": username, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access']}"}


def read_events(response, on_event=None):
    """Parse a text/event-stream body into (id, event, data) tuples until the server closes it."""
    events, current = [], {}
    for raw in response.iter_lines(decode_unicode=True):
        if raw == "":
            if "event" in current:
                event = (current.get("id"), current["event"], json.loads(current["data"]))
                events.append(event)
                if on_event:
                    on_event(event)
            current = {}
        elif not raw.startswith(":"):
            field, _, value = raw.partition(": ")
            current[field] = value
    return events


def test_it_streams_a_running_task_live_and_resumes_with_last_event_id(
    live_url, owner, outsider, worker, temp_kind, settings
):
    kind = temp_kind("tmp_chatty", chatty)
    headers = login(live_url, "owner", "owner-pass-123")
    task_id = str(enqueue_task(owner=owner, kind=kind, params={}).pk)
    stream_url = f"{live_url}/api/v1/tasks/{task_id}/logs/stream"

    status_when_seen = {}

    def note_status(event):
        _, name, data = event
        if name == "log" and data["message"].startswith("chatty line") and not status_when_seen:
            status_when_seen[data["message"]] = Task.objects.get(pk=task_id).status

    with requests.get(stream_url, headers=headers, stream=True, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = read_events(response, note_status)

    assert list(status_when_seen.values()) == ["RUNNING"]  # the first line arrived while the task ran
    logs = [e for e in events if e[1] == "log"]
    ids = [int(e[0]) for e in logs]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    chatty_lines = [e[2]["message"] for e in logs if e[2]["message"].startswith("chatty line")]
    assert chatty_lines == [f"chatty line {i}" for i in range(LINES)]
    assert any(e[2]["message"].startswith("status QUEUED → ASSIGNED") for e in logs)
    assert events[-1][1] == "status" and events[-1][2] == {"task_id": task_id, "status": "COMPLETED", "error": ""}
    assert events[-1][0] is None  # the status event has no id: Last-Event-ID stays the last line's

    # Resume after the 3rd line: exactly the newer lines, then the status event, then the end.
    resume_from = ids[2]
    with requests.get(stream_url, headers={**headers, "Last-Event-ID": str(resume_from)}, stream=True,
                      timeout=30) as response:  # fmt: skip
        resumed = read_events(response)
    assert [int(e[0]) for e in resumed if e[1] == "log"] == ids[3:]
    assert resumed[-1][1] == "status"
    with requests.get(f"{stream_url}?after={ids[-2]}", headers=headers, stream=True, timeout=30) as response:
        assert [int(e[0]) for e in read_events(response) if e[1] == "log"] == ids[-1:]

    # Same auth and visibility as the rest of the API, errors in the API's shape.
    assert requests.get(stream_url, timeout=10).status_code == 401
    other = requests.get(stream_url, headers=login(live_url, "outsider", "outsider-pass-123"), timeout=10)
    assert other.status_code == 404 and other.json()["code"] == "not_found" and other.json()["request_id"]
    bad = requests.get(stream_url, headers={**headers, "Last-Event-ID": "x"}, timeout=10)
    assert bad.status_code == 400 and "Last-Event-ID" in bad.json()["details"]
