"""Shared fixtures: personas, API clients, small structures, the real broker and a real worker.

Personas (STYLE.md §12): ``owner`` submits work, ``outsider`` is another researcher who must not
see it, ``operator`` is staff. Objects are built explicitly, no JSON fixtures.
"""

import os
import threading
from pathlib import Path

import dramatiq
import pytest
from ase.build import bulk
from ase.io import write
from rest_framework.test import APIClient

FIXTURES = Path(__file__).parent / "fixtures"
# Multi-structure packs on the CPU, as a GPU node packs them: the parity and grouping tests are
# about real packs (production CPUs default to one structure a pass: models_app.batched.engine).
os.environ.setdefault("BATCH_MAX_STRUCTURES", "256")


def pytest_collection_modifyitems(config, items):
    """``db_independent`` tests (engines, executors, physics, the model sandbox, model loading,
    the embedded entrypoint) touch neither the database nor a Redis server, so they give the same
    answer on both backends: the PostgreSQL pass skips them (the embedded pass runs them), which
    keeps CI's two passes within its time budget. The mark goes on whole modules or tests that
    request no database or broker fixture."""
    if not os.environ.get("DATABASE_URL"):
        return
    skip = pytest.mark.skip(reason="database-independent check: the embedded (SQLite) pass runs it")
    for item in items:
        if "db_independent" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test's websocket consumers get a channel layer instance of their own.

    channels_redis keeps its receive lock per instance, bound to the event loop that first
    received; a consumer abandoned on an earlier test's (now closed) loop would otherwise keep
    that lock, and the next test's receive waited forever."""
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    yield


@pytest.fixture
def owner(django_user_model):
    return django_user_model.objects.create_user("owner", "owner@example.org", "owner-pass-123")


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("outsider", "outsider@example.org", "outsider-pass-123")


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_user(
        "operator", "op@example.org", "operator-pass-123", is_staff=True, is_superuser=True
    )


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api(owner):
    return client_for(owner)


@pytest.fixture
def cu_cif(tmp_path) -> Path:
    """A 4-atom fcc Cu cell, slightly strained so relaxations have work to do (EMT-friendly)."""
    atoms = bulk("Cu", "fcc", a=3.70, cubic=True)
    atoms.rattle(0.02, seed=1)
    path = tmp_path / "Cu_fcc.cif"
    write(path, atoms)
    return path


@pytest.fixture
def cu_structure(cu_cif, owner):
    from structures_app.services import store_path

    return store_path(cu_cif, owner=owner, project=owner.username, name="Cu-fcc")


@pytest.fixture
def builtin_models(db):
    """Built-in models come from a data migration; transactional tests flush them, so re-add."""
    from models_app.builtin import ensure_builtin_models
    from models_app.models import MLModel

    ensure_builtin_models(MLModel)
    return {m.name: m for m in MLModel.objects.all()}


@pytest.fixture
def emt(builtin_models):
    return builtin_models["emt"]


def make_task(owner, structure, model, kind="single_point"):
    """A QUEUED task with the quick preset (the submit path without HTTP)."""
    from tasks_app.params import validate_params
    from tasks_app.services import enqueue_task

    return enqueue_task(
        owner=owner, kind=kind, params=validate_params(kind, {}, "quick"), structure=structure, model=model
    )


@pytest.fixture
def task(owner, cu_structure, emt):
    return make_task(owner, cu_structure, emt)


@pytest.fixture
def owner_client(client, owner):
    """Django's test client, logged in as the owner (session auth, as a browser)."""
    client.force_login(owner)
    return client


@pytest.fixture
def broker():
    """The configured (real Redis) broker with empty queues."""
    broker = dramatiq.get_broker()
    broker.flush_all()
    yield broker
    broker.flush_all()


@pytest.fixture
def worker(broker, transactional_db):
    """A real Dramatiq worker (one thread, like production) consuming from the real broker.

    The actor modules are imported first: a worker only consumes the queues of declared actors,
    and a test whose tasks are submitted by another process (the browser test's web server)
    would otherwise never have imported them."""
    from django.db import connections

    import alerts_app.tasks  # noqa: F401
    import models_app.tasks  # noqa: F401
    import tasks_app.tasks  # noqa: F401

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    yield worker
    # Drop what is still queued first: Worker.join() waits for every prefetched message, and after
    # a failed test some were never going to run, so teardown hung (stop() alone lets the thread
    # finish the message in hand).
    broker.flush_all()
    worker.stop()
    for conn in connections.all():
        conn.close()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, tmp_path_factory):
    """One daphne process for the session, serving the production ASGI stack on the test database
    (tests/live_server.py). Its log is in the session's tmp dir and quoted if it fails to start."""
    from tests.live_server import daphne_server

    with daphne_server(tmp_path_factory.mktemp("daphne") / "daphne.log") as url:
        yield url


@pytest.fixture
def live_url(transactional_db, asgi_server):
    """Base URL of the session's daphne; the test's rows are committed, so the server sees them."""
    return asgi_server


def wait_for(predicate, timeout=60.0, interval=0.05):
    """Poll ``predicate`` until truthy; return its value or fail with a clear message."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")


@pytest.fixture
def run_inline():
    """Claim and execute one specific QUEUED task in this process (the ``--sync`` path)."""
    from tasks_app.inline import run_task_inline

    return run_task_inline


@pytest.fixture
def temp_kind():
    """Register a task kind backed by a test function (no structure, no model) for one test."""
    from mofsim_site import executors
    from mofsim_site.executors import ExecutorEntry

    added = []

    def add(name, func, needs_structure=False, needs_model=False):
        executors.register(ExecutorEntry(name, name, f"{func.__module__}.{func.__name__}",
                                         "tasks_app.params.SinglePointParams", needs_structure=needs_structure,
                                         needs_model=needs_model))  # fmt: skip
        added.append(name)
        return name

    yield add
    for name in added:
        executors.REGISTRY.pop(name)


__all__ = ["client_for", "wait_for", "threading"]
