"""``Task`` / ``AsyncTask``: one submitted task, with the calls a script makes on it.

A ``Task`` holds the last JSON the API returned for it (``task.data``); ``task["status"]`` reads
that dict, as the dicts returned by the SDK before 1.0 did, so older scripts keep working.
``refresh()`` (and ``wait()``) fetch it again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mofsim_client._core import JSON, TERMINAL

if TYPE_CHECKING:
    from mofsim_client.aio import AsyncClient
    from mofsim_client.client import Client


class _TaskData:
    data: JSON

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def status(self) -> str:
        return str(self.data["status"])

    @property
    def kind(self) -> str:
        return str(self.data["kind"])

    @property
    def done(self) -> bool:
        """True once the task is COMPLETED, FAILED, CANCELLED or TIMEOUT (as last fetched)."""
        return self.status in TERMINAL

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.data.get('kind')} {self.data.get('status')}>"


class Task(_TaskData):
    def __init__(self, client: Client, data: JSON) -> None:
        self._client, self.data = client, dict(data)

    def refresh(self) -> Task:
        self.data = self._client._get(f"/tasks/{self.id}/")
        return self

    def wait(
        self,
        timeout: float = 3600,
        poll: float = 1.0,
        max_poll: float = 10.0,
        on_progress: Callable[[Task], None] | None = None,
    ) -> Task:
        """Poll until the task is terminal (delays grow from ``poll`` to ``max_poll``).

        Raises ``TaskTimeout`` after ``timeout`` seconds; the task keeps running on the server.
        A FAILED task is returned, not raised: check ``task.status`` and ``task["error"]``.
        """
        return self._client.wait(self, timeout=timeout, poll=poll, max_poll=max_poll, on_progress=on_progress)

    def result(self) -> JSON:
        return self._client.result(self.id)

    def logs(self, level: str | None = None, after: int | None = None) -> list[JSON]:
        return self._client.logs(self.id, level=level, after=after)

    def stream_logs(self, after: int | None = None, poll: float = 1.0) -> Iterator[JSON]:
        """Log lines as they are written, until the task ends (see ``Client.stream_logs``)."""
        return self._client.stream_logs(self.id, after=after, poll=poll)

    def cancel(self) -> Task:
        self.data = self._client.cancel(self.id).data
        return self

    def rerun(self) -> Task:
        """A new task with the same type, inputs, parameters and priority."""
        return self._client.rerun(self.id)

    def artifacts(self) -> list[JSON]:
        return self._client.artifacts(self.id)

    def download(self, name: str, dest: str | Path = ".") -> Path:
        return self._client.download(self.id, name, dest)


class AsyncTask(_TaskData):
    def __init__(self, client: AsyncClient, data: JSON) -> None:
        self._client, self.data = client, dict(data)

    async def refresh(self) -> AsyncTask:
        self.data = await self._client._get(f"/tasks/{self.id}/")
        return self

    async def wait(
        self,
        timeout: float = 3600,
        poll: float = 1.0,
        max_poll: float = 10.0,
        on_progress: Callable[[AsyncTask], None] | None = None,
    ) -> AsyncTask:
        """As ``Task.wait``, without blocking the event loop."""
        return await self._client.wait(self, timeout=timeout, poll=poll, max_poll=max_poll, on_progress=on_progress)

    async def result(self) -> JSON:
        return await self._client.result(self.id)

    async def logs(self, level: str | None = None, after: int | None = None) -> list[JSON]:
        return await self._client.logs(self.id, level=level, after=after)

    def stream_logs(self, after: int | None = None, poll: float = 1.0) -> AsyncIterator[JSON]:
        return self._client.stream_logs(self.id, after=after, poll=poll)

    async def cancel(self) -> AsyncTask:
        self.data = (await self._client.cancel(self.id)).data
        return self

    async def rerun(self) -> AsyncTask:
        return await self._client.rerun(self.id)

    async def artifacts(self) -> list[JSON]:
        return await self._client.artifacts(self.id)

    async def download(self, name: str, dest: str | Path = ".") -> Path:
        return await self._client.download(self.id, name, dest)
