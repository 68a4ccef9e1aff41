"""Sending websocket pushes from synchronous code (workers, views, on-commit hooks).

``async_to_sync(layer.group_send)`` starts a fresh event loop — and so a fresh Redis connection —
for every call, which cost a worker ~30 ms per push (bench/platform_overhead.py). Instead all
pushes of a process go through one long-lived event loop in a daemon thread, reusing the channel
layer's connection pool, and the pushes of one event are sent together. Failures are logged and
swallowed: the database row is the truth and pages can always re-read it.
"""

import asyncio
import logging
import os
import threading

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_state = {"loop": None, "pid": None}
TIMEOUT_S = 5.0


def _loop() -> asyncio.AbstractEventLoop:
    with _lock:
        loop = _state["loop"]
        if loop is None or loop.is_closed() or _state["pid"] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="mofsim-push", daemon=True).start()
            _state.update(loop=loop, pid=os.getpid())
        return loop


def push(messages: list[tuple[str, dict]]) -> None:
    """Send ``(group, event)`` pairs in order; never raises."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return

    async def send_all():
        for group, event in messages:
            await layer.group_send(group, event)

    try:
        asyncio.run_coroutine_threadsafe(send_all(), _loop()).result(timeout=TIMEOUT_S)
    except Exception:  # noqa: BLE001 - a push must never break the state change
        logger.warning("websocket push to %s failed", ", ".join(g for g, _ in messages), exc_info=True)
