"""Websockets through the real ASGI stack (origin check, session auth, URL router) and the real
Redis channel layer: what a page's htmx-ext-ws connection receives, and who is refused.

pytest-asyncio is not used: each test builds one coroutine and runs it with ``async_to_sync``;
database work inside it goes through ``sync_to_async`` (same thread as the test's connection).
"""

import threading

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client, override_settings

from mofsim_site.asgi import application
from tasks_app.choices import TaskStatus
from tasks_app.state import transition

pytestmark = pytest.mark.django_db(transaction=True)


def headers_for(user) -> list[tuple[bytes, bytes]]:
    """What a browser sends: an allowed Origin and (if signed in) the session cookie."""
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append(
            (b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode())
        )
    return headers


def run(scenario):
    """Run ``scenario`` on a fresh event loop in its own thread.

    In the main thread, a loop left behind by an earlier test's ``async_to_sync`` (the ASGI body
    limit tests) made the channel layer's cancelled receive hang at loop shutdown, now and then."""
    box = {}

    def target():
        try:
            box["value"] = async_to_sync(scenario)()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            box["error"] = exc
        finally:
            from django.db import connections

            connections.close_all()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "websocket scenario did not finish within 60 s"
    if "error" in box:
        raise box["error"]
    return box["value"]


async def connect(path, headers):
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


def test_it_streams_a_log_line_to_the_task_page_as_it_is_written(owner, task):
    as_owner = headers_for(owner)
    from tasks_app.runner import TaskReporter, artifacts_dir
    from tasks_app.scheduler import claim_next_task

    (settings.WORKDIR / "logs").mkdir(parents=True, exist_ok=True)
    task = claim_next_task(None)  # only the attempt holding the lease may write lines

    def write_line():
        reporter = TaskReporter(task, artifacts_dir(task))
        try:
            reporter.log("LBFGS step 3: fmax 0.12 eV/Å", "WARNING")
        finally:
            reporter.close()

    async def scenario():
        communicator, connected, _ = await connect(f"/ws/tasks/{task.pk}/", as_owner)
        assert connected
        await communicator.receive_nothing(timeout=0.2)  # nothing is pushed on connect
        await sync_to_async(write_line)()
        html = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return html

    html = run(scenario)
    assert html.startswith('<div hx-swap-oob="beforeend:#log-lines">')
    assert "LBFGS step 3: fmax 0.12 eV/Å" in html and "level-warning" in html
    line_id = task.log_lines.get(message__startswith="LBFGS").id
    assert f'data-id="{line_id}"' in html


def test_it_pushes_status_progress_and_the_transition_line_on_a_status_change(owner, task):
    as_owner = headers_for(owner)

    async def scenario():
        communicator, connected, _ = await connect(f"/ws/tasks/{task.pk}/", as_owner)
        assert connected
        await sync_to_async(transition)(task, TaskStatus.CANCELLED, message="by owner")
        html = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return html

    html = run(scenario)
    assert '<span id="task-status" class="status status-cancelled" hx-swap-oob="true">CANCELLED</span>' in html
    assert 'id="task-progress"' in html
    assert 'id="task-outcome"' in html and 'id="task-actions"' in html  # terminal: outcome in, button out
    assert "status QUEUED → CANCELLED: by owner" in html


def test_nothing_is_rendered_for_a_task_page_nobody_has_open(owner, task, monkeypatch):
    """A push to an empty group goes nowhere, so its fragment is not rendered; the subscribers
    (callbacks, alerts) still hear. ``listened`` tells an open page's group from an empty one."""
    from mofsim_site.push import listened
    from tasks_app import events
    from tasks_app.signals import task_status_changed

    rendered, heard = [], []
    real = events.render_to_string
    monkeypatch.setattr(events, "render_to_string", lambda name, ctx: rendered.append(name) or real(name, ctx))

    def listener(sender, task, previous, **kwargs):
        heard.append(task.status)

    task_status_changed.connect(listener)
    try:
        transition(task, TaskStatus.CANCELLED, message="by owner")
    finally:
        task_status_changed.disconnect(listener)
    assert heard == [TaskStatus.CANCELLED] and "tasks_app/partials/_task_live.html" not in rendered
    as_owner = headers_for(owner)

    async def scenario():
        communicator, connected, _ = await connect(f"/ws/tasks/{task.pk}/", as_owner)
        assert connected
        joined = await sync_to_async(listened)([events.task_group(task.pk), events.task_group("nobody")])
        await communicator.disconnect()
        return joined

    assert run(scenario) == {events.task_group(task.pk)}


def test_it_pushes_list_rows_to_the_owner_but_not_to_an_outsider(owner, outsider, task):
    as_owner, as_outsider = headers_for(owner), headers_for(outsider)

    async def scenario():
        mine, ok_mine, _ = await connect("/ws/tasks/", as_owner)
        theirs, ok_theirs, _ = await connect("/ws/tasks/", as_outsider)
        assert ok_mine and ok_theirs
        await sync_to_async(transition)(task, TaskStatus.CANCELLED)
        # The submit's QUEUED row may come first: the coalescer's timer started at submit and can
        # fire between the connect and the transition (seen under load). The CANCELLED row follows.
        row = await mine.receive_from(timeout=5)
        if ">QUEUED<" in row:
            row = await mine.receive_from(timeout=5)
        assert await theirs.receive_nothing(timeout=0.5)
        await mine.disconnect()
        await theirs.disconnect()
        return row

    row = run(scenario)
    assert row.startswith(f'<tr id="task-row-{task.pk}" hx-swap-oob="true">')
    assert ">CANCELLED<" in row


@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}})
def test_it_refuses_an_outsider_and_an_anonymous_visitor(outsider, task):
    """(The refusals are the consumers' auth checks, which need no Redis: with the in-memory layer
    no channels_redis receive is left to cancel, the cause of this test's rare hang, as for the
    foreign-origin test below.)"""
    as_outsider, anonymous = headers_for(outsider), headers_for(None)

    async def scenario():
        outsider_ws, outsider_connected, outsider_code = await connect(f"/ws/tasks/{task.pk}/", as_outsider)
        anonymous_ws, anonymous_connected, anonymous_code = await connect(f"/ws/tasks/{task.pk}/", anonymous)
        nodes_ws, nodes_connected, _ = await connect("/ws/nodes/", anonymous)
        # A refused consumer still waits for the browser's disconnect, its channel-layer receive
        # pending; sent here, it ends inside this loop instead of being cancelled at loop shutdown
        # (where channels_redis' receive now and then never finished: the test hung).
        for refused in (outsider_ws, anonymous_ws, nodes_ws):
            await refused.disconnect()
        return outsider_connected, outsider_code, anonymous_connected, anonymous_code, nodes_connected

    outsider_connected, outsider_code, anonymous_connected, anonymous_code, nodes_connected = run(scenario)
    assert (outsider_connected, outsider_code) == (False, 4404)
    assert (anonymous_connected, anonymous_code) == (False, 4401)
    assert nodes_connected is False


@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}})
def test_it_refuses_a_foreign_origin(owner, task):
    """(The refused consumer is left for loop shutdown to cancel; channels_redis' receive sometimes
    never finishes that cancellation, and the origin check needs no Redis.)"""
    headers = [(b"origin", b"http://evil.example")] + headers_for(owner)[1:]

    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/tasks/{task.pk}/", headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        return connected

    assert run(scenario) is False


def test_the_node_list_receives_a_heartbeat_push(owner):
    as_owner = headers_for(owner)
    from nodes_app.services import record_heartbeat, register_local_node

    node, _token = register_local_node("gpu-7", hostname="box", device="cuda:7")

    async def scenario():
        communicator, connected, _ = await connect("/ws/nodes/", as_owner)
        assert connected
        payload = {"gpu_name": "NVIDIA H200", "gpu_memory_total_mb": 143771, "gpu_memory_used_mb": 2048}
        await sync_to_async(record_heartbeat)(node, payload)
        html = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return html

    html = run(scenario)
    assert html.startswith(f'<tr id="node-row-{node.pk}" hx-swap-oob="true">')
    assert "NVIDIA H200" in html and "2048 / 143771 MiB" in html
    assert "Online" in html and "idle" in html
