"""The SDK follows a list's ``next`` links (cursor or page number), keeping the filters.

No server: an httpx ``MockTransport`` plays ``/tasks/`` with two cursor pages, as the server's
keyset pagination answers."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
from mofsim_client import AsyncClient, Client

BASE = "http://mofsim.test"


def two_cursor_pages(seen: list):
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        assert request.url.path == "/api/v1/tasks/"
        if "cursor" not in request.url.params:
            nxt = f"{BASE}/api/v1/tasks/?status=QUEUED&cursor=abc"
            body = {"count": 3, "next": nxt, "previous": None, "results": [{"id": "1"}, {"id": "2"}]}
            return httpx.Response(200, json=body)
        return httpx.Response(200, json={"count": 3, "next": None, "previous": "x", "results": [{"id": "3"}]})

    return httpx.MockTransport(handler)


def test_the_client_follows_cursor_links_and_keeps_the_filter():
    seen: list = []
    client = Client(BASE, token="t", transport=two_cursor_pages(seen))
    assert [t.id for t in client.tasks(status="QUEUED")] == ["1", "2", "3"]
    assert seen == [{"status": "QUEUED"}, {"status": "QUEUED", "cursor": "abc"}]


def test_the_async_client_follows_cursor_links():
    seen: list = []

    async def main():
        async with AsyncClient(BASE, token="t", transport=two_cursor_pages(seen)) as client:
            return [t.id for t in await client.tasks(status="QUEUED")]

    with ThreadPoolExecutor(1) as pool:  # asyncio.run in its own thread, as tests/sdk/test_sse.py does
        assert pool.submit(asyncio.run, main()).result() == ["1", "2", "3"]
    assert seen[1] == {"status": "QUEUED", "cursor": "abc"}


def test_a_list_without_filters_still_reads_the_first_page():
    """``_paged(path)`` with no params must fetch page one (it once returned [] without a request)."""
    seen = []

    def handler(request):
        seen.append(str(request.url))
        return httpx.Response(200, json={"count": 1, "next": None, "previous": None, "results": [{"id": 1}]})

    client = Client("http://mofsim.test", token="k", transport=httpx.MockTransport(handler))
    assert client._paged("/jobs/") == [{"id": 1}] and len(seen) == 1
