"""A server-sent events parser (the WHATWG "event stream" rules), fed one line at a time.

Kept free of I/O so the sync and async clients share it and a test can feed it a canned stream.
Only what the log stream needs: ``event``, ``data`` (multi-line joined with ``\\n``), ``id``
(remembered across events, as browsers do, for ``Last-Event-ID`` on reconnect), ``retry``,
comments (``:`` keep-alives) ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerSentEvent:
    event: str
    data: str
    id: str | None
    retry: int | None = None


class SSEParser:
    def __init__(self) -> None:
        self.last_event_id: str | None = None
        self.retry: int | None = None
        self._event = ""
        self._data: list[str] = []
        self._retry: int | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        """One line without its terminator; returns an event when a blank line ends one."""
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event = value
        elif field == "data":
            self._data.append(value)
        elif field == "id" and "\0" not in value:
            self.last_event_id = value
        elif field == "retry" and value.isdigit():
            self._retry = self.retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        event, data, retry = self._event or "message", self._data, self._retry
        self._event, self._data, self._retry = "", [], None
        if not data:  # per spec, an event without data is not dispatched
            return None
        return ServerSentEvent(event, "\n".join(data), self.last_event_id, retry)

    def parse(self, lines: Iterable[str]) -> Iterator[ServerSentEvent]:
        for line in lines:
            event = self.feed(line)
            if event is not None:
                yield event
