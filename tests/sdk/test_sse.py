"""The SDK's SSE parser on a canned stream, and ``stream_logs`` resuming with Last-Event-ID.

No server: an httpx ``MockTransport`` plays the log-stream endpoint (built in parallel on the
server), drops the first connection mid-stream and checks the SDK resumes after the last line.
"""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from mofsim_client import AsyncClient, Client, NotFound, SSEParser


def run_async(main):
    """asyncio.run in its own thread: run in the main thread, the later Channels tests
    (tests/tasks_app/test_consumers.py) hung in the same session."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


CANNED = """: keep-alive comment
retry: 2000

id: 1
event: log
data: {"id": 1, "level": "INFO", "message": "started"}

id: 2
event: log
data: first half
data: second half

event: ping
data:

id: 3
event: status
data: {"status": "COMPLETED"}

"""


def test_it_parses_a_canned_event_stream():
    parser = SSEParser()
    events = list(parser.parse(CANNED.splitlines()))
    assert [(e.event, e.id) for e in events] == [("log", "1"), ("log", "2"), ("ping", "2"), ("status", "3")]
    assert json.loads(events[0].data)["message"] == "started"
    assert events[1].data == "first half\nsecond half"
    assert events[0].retry is None and parser.retry == 2000
    assert parser.last_event_id == "3"


def test_it_ignores_blocks_without_data_and_strips_one_space():
    parser = SSEParser()
    assert list(parser.parse(["event: log", "", "data:  two spaces", ""]))[0].data == " two spaces"


def line(i, message):
    return f'id: {i}\nevent: log\ndata: {{"id": {i}, "level": "INFO", "message": "{message}"}}\n\n'


class Dropping(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Sends some bytes, then fails like a dropped TCP connection."""

    def __init__(self, body: str, drop: bool):
        self.body, self.drop = body.encode(), drop

    def __iter__(self):
        yield self.body
        if self.drop:
            raise httpx.ReadError("connection reset")

    async def __aiter__(self):
        yield self.body
        if self.drop:
            raise httpx.ReadError("connection reset")


def stream_server(seen):
    """First connection: lines 1-2 then a drop; the resumed one must say Last-Event-ID: 2."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/login"):
            return httpx.Response(200, json={"access": "a", "refresh": "r"})
        assert request.url.path == "/api/v1/tasks/t1/logs/stream"
        seen.append(request.headers.get("Last-Event-ID"))
        if len(seen) == 1:
            body, drop = line(1, "one") + line(2, "two"), True
        else:
            body, drop = line(3, "three") + 'id: 3\nevent: status\ndata: {"status": "COMPLETED"}\n\n', False
        return httpx.Response(200, headers={"Content-Type": "text/event-stream"}, stream=Dropping(body, drop))

    return handler


def test_it_resumes_the_stream_after_a_drop_with_last_event_id(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda s: None)
    seen = []
    client = Client("http://mofsim.test", "u", "p", transport=httpx.MockTransport(stream_server(seen)))
    lines = list(client.stream_logs("t1"))
    assert [(x["id"], x["message"]) for x in lines] == [(1, "one"), (2, "two"), (3, "three")]
    assert seen == [None, "2"]


def test_the_async_client_resumes_too():
    seen = []

    async def main():
        transport = httpx.MockTransport(stream_server(seen))
        async with AsyncClient("http://mofsim.test", "u", "p", transport=transport) as client:
            return [x["message"] async for x in client.stream_logs("t1")]

    assert run_async(main) == ["one", "two", "three"]
    assert seen == [None, "2"]


def test_a_missing_task_is_not_mistaken_for_a_missing_stream():
    def handler(request):
        error = {"code": "not_found", "message": "no such task", "details": {}, "request_id": "r1"}
        return httpx.Response(404, json=error)

    client = Client("http://mofsim.test", token="k", transport=httpx.MockTransport(handler))
    with pytest.raises(NotFound) as info:
        list(client.stream_logs("t1"))
    assert info.value.request_id == "r1" and info.value.code == "not_found"
