"""Sending websocket pushes from synchronous code (workers, views, on-commit hooks).

``async_to_sync(layer.group_send)`` starts a fresh event loop — and so a fresh Redis connection —
for every call, which cost a worker ~30 ms per push (bench/platform_overhead.py). Instead all
pushes of a process go through one long-lived event loop in a daemon thread, reusing the channel
layer's connection pool, and the pushes of one event are sent together. Failures are logged and
swallowed: the database row is the truth and pages can always re-read it.

A push to a group nobody joined goes nowhere, so callers ask ``listened`` first and skip
rendering its fragments: in a campaign of thousands of short tasks almost no task page is open,
and rendering each transition's fragment was ~40 % of a worker's time per near-no-op task
(issue 12).

The push loop has a channel layer instance of its own: the cached ``get_channel_layer()`` one is
used by consumers on the server's event loop, and one instance shared by two loops (its
connection pools and receive lock belong to a loop) hung a consumer's receive now and then.
"""

import asyncio
import logging
import os
import threading
from contextlib import contextmanager

import redis
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers
from channels_redis.core import RedisChannelLayer

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_state = {"loop": None, "pid": None, "layer": None}
TIMEOUT_S = 5.0


def _loop() -> asyncio.AbstractEventLoop:
    with _lock:
        loop = _state["loop"]
        if loop is None or loop.is_closed() or _state["pid"] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="mofsim-push", daemon=True).start()
            configured = DEFAULT_CHANNEL_LAYER in channel_layers.configs
            layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER) if configured else None
            _state.update(loop=loop, pid=os.getpid(), layer=layer, redis={})
        return loop


def push(messages: list[tuple[str, dict]]) -> None:
    """Send ``(group, event)`` pairs in order; never raises."""
    if not messages:
        return
    loop = _loop()
    layer = _state["layer"]
    if layer is None:
        return

    async def send_all():
        for group, event in messages:
            await layer.group_send(group, event)

    try:
        asyncio.run_coroutine_threadsafe(send_all(), loop).result(timeout=TIMEOUT_S)
    except Exception:  # noqa: BLE001 - a push must never break the state change
        logger.warning("websocket push to %s failed", ", ".join(g for g, _ in messages), exc_info=True)


_answers = threading.local()


@contextmanager
def one_answer():
    """Within the block ``listened`` asks about each group once (this thread): the pushes of one
    committed change — a final state's status and progress, both for the task page's group — share
    one Redis round trip (issue 12). Both are asked after the commit, so a page that joins later
    rendered the committed row anyway; nothing it could have had is skipped."""
    outer = getattr(_answers, "known", None)
    if outer is None:
        _answers.known = {}
    try:
        yield
    finally:
        if outer is None:
            _answers.known = None


def listened(groups: list[str]) -> set[str]:
    """The ``groups`` that some consumer has joined: one ZCARD per group on channels_redis' keys.

    Asked from the calling thread with a plain Redis client (a hop to the push loop's thread cost
    more than the render it saves on a loaded machine). Any group counts as listened when the
    layer cannot tell (another backend or host form) or the check fails, so a push is never
    skipped for want of an answer. A consumer that died without leaving stays a member until the
    layer's group expiry: its group is still rendered for."""
    known = getattr(_answers, "known", None)
    if known is None:
        return _ask(groups)
    missing = [group for group in groups if group not in known]
    if missing:
        answered = _ask(missing)
        known.update((group, group in answered) for group in missing)
    return {group for group in groups if known[group]}


def _ask(groups: list[str]) -> set[str]:
    if not groups:
        return set()
    _loop()
    layer = _state["layer"]
    if layer is None:
        return set()  # no channel layer: push() sends nothing either
    try:
        clients = [_redis_for(layer, group) for group in groups]
        if any(client is None for client in clients):
            return set(groups)
        counts = [client.zcard(layer._group_key(group)) for client, group in zip(clients, groups, strict=True)]
    except Exception:  # noqa: BLE001 - unknown: render and push as if someone listened
        logger.warning("could not check who listens to %s", ", ".join(groups), exc_info=True)
        return set(groups)
    return {group for group, count in zip(groups, counts, strict=True) if count}


def _redis_for(layer, group: str) -> redis.Redis | None:
    """A synchronous client for the layer's host holding ``group`` (None: not a URL host)."""
    if not isinstance(layer, RedisChannelLayer):
        return None
    index = layer.consistent_hash(group)
    with _lock:
        clients = _state.setdefault("redis", {})
        if index not in clients:
            host = dict(layer.hosts[index])
            address = host.pop("address", None)
            clients[index] = redis.Redis.from_url(address, **host) if address else None
        return clients[index]
