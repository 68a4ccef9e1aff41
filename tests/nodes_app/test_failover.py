"""Fail-over driven by what a worker reports: boot, heartbeat mismatch, superseded processes,
the wake-up reconciler and a bounded housekeeping pass; and claims that never collide."""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from models_app import cache
from nodes_app import heartbeat
from nodes_app.housekeeping import housekeeping_pass
from nodes_app.services import record_heartbeat, register_local_node
from tasks_app.choices import TaskStatus
from tasks_app.models import Task, TaskAttempt
from tasks_app.reconciler import broker_backlog, requeue_lost_messages
from tasks_app.scheduler import claim_next_task
from tasks_app.state import Lease, transition
from tests.conftest import make_task

S = TaskStatus


def beat(name, token, **facts):
    return APIClient().post(
        "/api/v1/nodes/heartbeat", {"name": name, **facts}, format="json", HTTP_AUTHORIZATION=f"Node {token}"
    )


@pytest.mark.django_db
def test_a_boot_heartbeat_fails_over_what_the_node_held(owner, cu_structure, emt):
    node, token = register_local_node("host/gpu0")
    task = make_task(owner, cu_structure, emt)
    claimed = claim_next_task(node)
    transition(claimed, S.RUNNING, lease=Lease.of(claimed))
    # The worker process died and the launcher started a new one under the same node name.
    assert beat(node.name, token, boot=True).status_code == 200
    task.refresh_from_db()
    assert task.status == S.QUEUED and task.node is None
    assert "restarted" in TaskAttempt.objects.get(task=task).reason


@pytest.mark.django_db
def test_a_heartbeat_fails_over_held_tasks_it_does_not_report(owner, cu_structure, emt):
    node, token = register_local_node("host/gpu1")
    mine = make_task(owner, cu_structure, emt)
    ghost = make_task(owner, cu_structure, emt)
    running = claim_next_task(node)
    lost = claim_next_task(node)  # a claim whose worker no longer runs it
    assert {running.pk, lost.pk} == {mine.pk, ghost.pk}
    long_ago = timezone.now() - timedelta(seconds=settings.NODE_HEARTBEAT_INTERVAL_S + 10)
    Task.objects.filter(pk=lost.pk).update(assigned_at=long_ago)
    assert beat(node.name, token, task=str(running.pk), lease=str(running.lease_token)).status_code == 200
    assert Task.objects.get(pk=running.pk).status == S.ASSIGNED  # reported: kept
    assert Task.objects.get(pk=lost.pk).status == S.QUEUED  # held but not reported: failed over


@pytest.mark.django_db
def test_a_just_claimed_task_is_not_failed_over_by_an_older_heartbeat(owner, cu_structure, emt):
    node, _ = register_local_node("host/gpu2")
    make_task(owner, cu_structure, emt)
    claimed = claim_next_task(node)
    record_heartbeat(node, {"task": None, "lease": None})  # facts collected just before the claim
    assert Task.objects.get(pk=claimed.pk).status == S.ASSIGNED


@pytest.mark.django_db(transaction=True)
def test_an_orphan_learns_it_was_superseded():
    node, old_token = register_local_node("host/gpu3")
    register_local_node("host/gpu3")  # the launcher restarted the worker: a new token
    with pytest.raises(heartbeat.Superseded):
        heartbeat.send_heartbeat(node.name, old_token, {"device": "cpu"})


def test_a_heartbeat_does_not_wait_for_a_model_load():
    """The heartbeat thread once blocked on the model cache's lock for a whole 80 s load."""
    loading = threading.Event()
    release = threading.Event()

    def slow_load():
        with cache._lock:  # what get_calculator holds while building a model
            loading.set()
            release.wait(10)

    thread = threading.Thread(target=slow_load)
    thread.start()
    loading.wait(5)
    started = time.monotonic()
    try:
        facts = heartbeat.collect_facts("cpu")
    finally:
        release.set()
        thread.join()
    assert time.monotonic() - started < 1.0 and "loaded_models" in facts


@pytest.mark.django_db(transaction=True)
def test_the_reconciler_resends_only_what_the_broker_lost(owner, cu_structure, emt, broker):
    tasks = [make_task(owner, cu_structure, emt) for _ in range(3)]  # three wake-ups in the broker
    later = timezone.now() + timedelta(seconds=settings.TASK_REQUEUE_AFTER_S + 1)
    assert broker_backlog() == 3
    assert requeue_lost_messages(later) == 0  # nothing is missing
    broker.flush_all()  # a Redis restart without persistence
    assert broker_backlog() == 0
    assert requeue_lost_messages(timezone.now()) == 0  # too recent to call lost
    assert requeue_lost_messages(later) == 3
    assert broker_backlog() == 3 and requeue_lost_messages(later) == 0
    assert {t.pk for t in tasks} == set(Task.objects.filter(status=S.QUEUED).values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_housekeeping_pass_is_bounded_and_reports_what_it_did(owner, cu_structure, emt, broker):
    node, _ = register_local_node("host/gpu4")
    for _ in range(3):
        make_task(owner, cu_structure, emt)
    for _ in range(2):
        claimed = claim_next_task(node)
        transition(claimed, S.RUNNING, lease=Lease.of(claimed))
    broker.flush_all()
    later = timezone.now() + timedelta(seconds=max(settings.TASK_LEASE_TTL_S, settings.TASK_REQUEUE_AFTER_S) + 1)
    summary = housekeeping_pass(later)
    assert summary["leases_expired"] == 2
    # The two failed over got fresh wake-ups on commit; only the third one's lost wake-up is re-sent.
    assert summary["wakeups_resent"] == 1
    assert Task.objects.filter(status=S.QUEUED).count() == 3 and broker_backlog() == 3


CLAIMER = """
import django
django.setup()
from tasks_app.scheduler import claim_next_task
n = 0
while claim_next_task(None) is not None:
    n += 1
print(n)
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_from_several_processes_never_take_a_task_twice(owner, cu_structure, emt):
    total = 60
    for _ in range(total):
        make_task(owner, cu_structure, emt)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.launcher_settings",
           "MOFSIM_TEST_DB": str(settings.DATABASES["default"]["NAME"])}  # fmt: skip
    procs = [subprocess.Popen([sys.executable, "-c", CLAIMER], env=env, cwd=settings.BASE_DIR,
                              stdout=subprocess.PIPE, text=True) for _ in range(4)]  # fmt: skip
    counts = [int(p.communicate(timeout=240)[0].strip().splitlines()[-1]) for p in procs]
    assert sum(counts) == total, counts
    assert Task.objects.filter(status=S.ASSIGNED, attempts=1).count() == total
    assert TaskAttempt.objects.count() == total  # one attempt row per task: nobody claimed twice
