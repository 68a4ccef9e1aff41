"""What the sync and async clients share: credentials, request bodies, backoff, log events.

Nothing here does I/O, so ``Client`` and ``AsyncClient`` differ only in ``await``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from mofsim_client._version import API_VERSION, __version__
from mofsim_client.sse import ServerSentEvent

TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"})
USER_AGENT = f"mofsim-client/{__version__}"
JSON = dict[str, Any]


class Credentials:
    """JWT (username + password, refreshed and rotated) or a personal token (never refreshed).

    Refresh tokens rotate on the server — the one sent is blacklisted — so the new one returned
    by ``/auth/refresh`` must replace it, or the next refresh fails.
    """

    def __init__(self, username: str | None, password: str | None, token: str | None) -> None:
        if token is None and (username is None or password is None):
            raise ValueError("give username and password, or token (or set MOFSIM_TOKEN)")
        self.username, self.password, self.token = username, password, token
        self.access: str | None = None
        self.refresh: str | None = None

    @property
    def uses_jwt(self) -> bool:
        return self.token is None

    def header(self) -> dict[str, str]:
        if self.token is not None:
            return {"Authorization": f"Token {self.token}"}
        return {"Authorization": f"Bearer {self.access}"} if self.access else {}

    def login_body(self) -> JSON:
        return {"username": self.username, "password": self.password}

    def store(self, body: Mapping[str, Any]) -> None:
        self.access = body["access"]
        self.refresh = body.get("refresh", self.refresh)


def api_base(url: str) -> str:
    return url.rstrip("/") + f"/api/{API_VERSION}"


def env_settings() -> dict[str, Any]:
    """``MOFSIM_URL`` + ``MOFSIM_TOKEN`` (or ``MOFSIM_USERNAME`` / ``MOFSIM_PASSWORD``)."""
    url = os.environ.get("MOFSIM_URL")
    if not url:
        raise ValueError("MOFSIM_URL is not set")
    return {
        "base_url": url,
        "username": os.environ.get("MOFSIM_USERNAME"),
        "password": os.environ.get("MOFSIM_PASSWORD"),
        "token": os.environ.get("MOFSIM_TOKEN"),
    }


def submit_body(
    kind: str,
    structure: int | None,
    model: str | None,
    params: Mapping[str, Any] | None,
    preset: str,
    priority: str,
    time_limit_s: int | None = None,
) -> JSON:
    body: JSON = {"params": dict(params or {}), "preset": preset, "priority": priority}
    if structure is not None:
        body["structure"] = structure
    if model is not None:
        body["model"] = model
    if time_limit_s is not None:
        body["time_limit_s"] = time_limit_s
    return body


def batch_item(spec: Mapping[str, Any]) -> tuple[str, JSON]:
    """One ``submit_many`` entry: ``{"kind", "structure", "model", "params", "preset", ...}``."""
    spec = dict(spec)
    kind = spec.pop("kind")
    body = submit_body(
        kind,
        spec.pop("structure", None),
        spec.pop("model", None),
        spec.pop("params", None),
        spec.pop("preset", "protocol"),
        spec.pop("priority", "NORMAL"),
        spec.pop("time_limit_s", None),
    )
    if spec:
        raise ValueError(f"unknown submit fields: {', '.join(sorted(spec))}")
    return kind, body


def next_query(body: Mapping[str, Any]) -> dict[str, str] | None:
    """The query of a list page's ``next`` link (None on the last page).

    The server decides how to page (a page number, or a keyset cursor for the task list); the
    client only follows the link, keeping the filters it carries."""
    link = body.get("next")
    return dict(parse_qsl(urlsplit(link).query, keep_blank_values=True)) if link else None


def drop_none(**fields: Any) -> JSON:
    return {k: v for k, v in fields.items() if v is not None}


def backoff(initial: float, maximum: float, factor: float = 1.5) -> Iterator[float]:
    """Poll delays: ``initial``, then growing by ``factor`` up to ``maximum`` (gentle on the API)."""
    delay = initial
    while True:
        yield delay
        delay = min(delay * factor, maximum)


def log_line(event: ServerSentEvent) -> JSON:
    """A ``log`` event as the same dict ``GET /tasks/{id}/logs/`` returns per line."""
    try:
        data = json.loads(event.data)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {"message": event.data}
    if "id" not in data and event.id is not None and event.id.isdigit():
        data["id"] = int(event.id)
    return data


def task_id_of(task: Any) -> str:
    """Accepts a ``Task``, a task dict, or an id."""
    if isinstance(task, str):
        return task
    if isinstance(task, Mapping):
        return str(task["id"])
    return str(task.id)


STREAM_ABSENT = frozenset({404, 405, 406})
