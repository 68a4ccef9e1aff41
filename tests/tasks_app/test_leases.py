"""Per-attempt leases: fencing of stale workers, lease expiry, the attempt history, fast cancel.

These run the real runner and state machine in this process (threads stand in for the second
worker); tests/chaos/ does the same with real launcher and worker processes.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone

from mofsim_site.executors import Reporter
from tasks_app import leases, runner
from tasks_app.choices import TaskStatus
from tasks_app.inline import run_task_inline
from tasks_app.models import Task, TaskArtifact, TaskAttempt, TaskLogLine, TaskMetricPoint
from tasks_app.runner import TaskReporter, artifacts_dir, checked_calculator
from tasks_app.scheduler import claim_next_task, rank_candidates
from tasks_app.services import cancel_task, enqueue_task
from tasks_app.state import IllegalTransition, Lease, LeaseLost, transition
from tests.conftest import make_task, wait_for

S = TaskStatus
pytestmark = pytest.mark.django_db(transaction=True)

GATE = {}  # test executors wait on these events


def gated(atoms, calculator, params, report):
    """Reports progress until the test opens the gate; returns the attempt it ran as."""
    step = 0
    while not GATE["open"].wait(0.02):
        step += 1
        report.progress(step, None, energy=-1.0 * step)
    return {"ran_attempt": report.task.attempts if hasattr(report, "task") else None}


def spinning(atoms, calculator, params, report):
    """A long computation that never reports progress: only the force-call hook can stop it."""
    from ase.build import bulk

    cu = bulk("Cu", "fcc", a=3.6, cubic=True)
    cu.calc = calculator
    for i in range(100_000):
        cu.rattle(1e-4, seed=i)
        cu.get_potential_energy()
    return {}


@pytest.fixture
def gate():
    GATE["open"] = threading.Event()
    yield GATE["open"]
    GATE["open"].set()


def run_in_thread(task):
    box = {}

    def target():
        from django.db import connection

        try:
            box["task"] = runner.execute_task(task, device="cpu")
        finally:
            connection.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def test_a_claim_is_a_lease_with_an_attempt_row(owner, task):
    claimed = claim_next_task(None)
    assert claimed.pk == task.pk and claimed.attempts == 1
    assert claimed.lease_token is not None and claimed.lease_expires_at > timezone.now()
    attempt = TaskAttempt.objects.get(task=task)
    assert attempt.number == 1 and attempt.ended_at is None and attempt.outcome == ""


def test_a_stale_attempt_cannot_write_state_result_or_progress(owner, task):
    first = Lease.of(claim_next_task(None))
    transition(Task(pk=task.pk), S.RUNNING, lease=first)
    # The first attempt's worker is declared dead and another attempt claims the task.
    leases.fail_over(Task.objects.get(pk=task.pk), "test: worker silent")
    second_task = claim_next_task(None)
    second = Lease.of(second_task)
    assert second.attempt == 2 and second.token != first.token

    with pytest.raises(LeaseLost):
        transition(Task(pk=task.pk), S.RUNNING, lease=first)
    stale = TaskReporter(Task.objects.get(pk=task.pk), artifacts_dir(second_task), first)
    stale.log("stale line")
    stale.step = 5
    with pytest.raises(LeaseLost):
        stale.flush({"step": 5, "energy": -9.0})
    stale.close()
    assert not TaskLogLine.objects.filter(message="stale line").exists()
    assert not TaskMetricPoint.objects.filter(task=task).exists()
    assert Task.objects.get(pk=task.pk).progress_step == 0

    transition(Task(pk=task.pk), S.RUNNING, lease=second)
    with pytest.raises(LeaseLost):
        transition(Task(pk=task.pk), S.COMPLETED, lease=first, result={"from": "first"})
    transition(Task(pk=task.pk), S.COMPLETED, lease=second, result={"from": "second"})
    assert Task.objects.get(pk=task.pk).result == {"from": "second"}
    history = list(TaskAttempt.objects.filter(task=task).values_list("number", "outcome"))
    assert history == [(1, S.QUEUED), (2, S.COMPLETED)]


def test_an_expired_lease_is_failed_over_and_keeps_its_place(owner, cu_structure, emt):
    older = make_task(owner, cu_structure, emt)
    newer = make_task(owner, cu_structure, emt)
    claimed = claim_next_task(None)
    assert claimed.pk == older.pk
    original_queue_time = claimed.queued_at
    transition(claimed, S.RUNNING, lease=Lease.of(claimed))
    Task.objects.filter(pk=older.pk).update(progress_step=7, progress_total=10, progress={"energy": -1})

    assert leases.expire_leases(timezone.now()) == 0  # still within its TTL
    later = timezone.now() + timedelta(seconds=61)
    assert leases.expire_leases(later) == 1
    task = Task.objects.get(pk=older.pk)
    assert task.status == S.QUEUED and task.node is None and task.lease_token is None
    assert (task.progress_step, task.progress_total, task.progress) == (0, None, {})
    assert task.queued_at == original_queue_time
    assert rank_candidates()[0] == older.pk  # ahead of the newer task, by its original queue time
    ended = TaskAttempt.objects.get(task=older, number=1)
    assert ended.outcome == S.QUEUED and "stopped renewing its lease" in ended.reason
    assert newer.pk in rank_candidates()


@override_settings(TASK_MAX_ATTEMPTS=2)
def test_after_max_attempts_an_expired_lease_fails_the_task_with_a_reason(owner, task):
    for _ in range(2):
        claimed = claim_next_task(None)
        transition(claimed, S.RUNNING, lease=Lease.of(claimed))
        leases.expire_leases(timezone.now() + timedelta(seconds=61))
    task.refresh_from_db()
    assert task.status == S.FAILED and task.attempts == 2
    assert "gave up after 2 attempts" in task.error and "lease" in task.error


def test_the_keeper_renews_while_the_computing_thread_is_busy(owner, temp_kind, gate):
    """A long model load or force call must not let the lease expire (the live-worker-declared-dead bug)."""
    kind = temp_kind("tmp_gated", gated)
    task = enqueue_task(owner=owner, kind=kind, params={})
    with override_settings(TASK_LEASE_TTL_S=2, TASK_LEASE_POLL_S=0.2):
        thread, box = run_in_thread(claim_next_task(None))
        wait_for(lambda: Task.objects.get(pk=task.pk).status == S.RUNNING, timeout=10)
        time.sleep(3)  # longer than the TTL
        assert leases.expire_leases() == 0
        gate.set()
        thread.join(10)
    assert box["task"].status == S.COMPLETED and box["task"].result["ran_attempt"] == 1


def test_one_keeper_thread_renews_every_lease_the_process_holds(owner, temp_kind, gate):
    """The process's one keeper (not a thread per attempt) keeps two concurrent attempts alive."""
    kind = temp_kind("tmp_gated", gated)
    ids = [enqueue_task(owner=owner, kind=kind, params={}).pk for _ in range(2)]
    with override_settings(TASK_LEASE_TTL_S=2, TASK_LEASE_POLL_S=0.2):
        runs = [run_in_thread(claim_next_task(None)) for _ in ids]
        wait_for(lambda: Task.objects.filter(pk__in=ids, status=S.RUNNING).count() == 2, timeout=10)
        time.sleep(3)  # longer than the TTL
        assert leases.expire_leases() == 0
        assert [t.name for t in threading.enumerate()].count("mofsim-lease-keeper") == 1
        gate.set()
        for thread, _ in runs:
            thread.join(10)
    assert [box["task"].status for _, box in runs] == [S.COMPLETED, S.COMPLETED]


def test_a_worker_that_lost_its_lease_stops_and_its_result_is_discarded(owner, temp_kind, gate):
    kind = temp_kind("tmp_gated", gated)
    task = enqueue_task(owner=owner, kind=kind, params={})
    with override_settings(TASK_LEASE_POLL_S=0.1):
        thread, box = run_in_thread(claim_next_task(None))
        wait_for(lambda: Task.objects.get(pk=task.pk).progress_step > 0, timeout=10)
        leases.fail_over(Task.objects.get(pk=task.pk), "test: taken away")  # as the reaper would
        thread.join(5)
        assert not thread.is_alive(), "the stale worker should stop computing at once"
    task.refresh_from_db()
    assert task.status == S.QUEUED and task.result is None and task.progress_step == 0
    assert not TaskArtifact.objects.filter(task=task).exists()


@pytest.mark.parametrize("kind", ["spinning", "gated"])
def test_cancel_stops_a_running_task_within_two_seconds(owner, temp_kind, gate, emt, kind):
    func = spinning if kind == "spinning" else gated
    name = temp_kind(f"tmp_{kind}", func, needs_model=(kind == "spinning"))
    task = enqueue_task(owner=owner, kind=name, params={}, model=emt if kind == "spinning" else None)
    thread, box = run_in_thread(claim_next_task(None))
    wait_for(lambda: Task.objects.get(pk=task.pk).status == S.RUNNING, timeout=30)
    time.sleep(0.5)
    cancelled_at = time.monotonic()
    cancel_task(Task.objects.get(pk=task.pk), by="test")
    thread.join(10)
    stopped_after = time.monotonic() - cancelled_at
    assert not thread.is_alive() and stopped_after < 2.0, stopped_after
    task.refresh_from_db()
    assert task.status == S.CANCELLED
    assert task.log_lines.filter(message="stopped: task was cancelled").exists()
    assert TaskAttempt.objects.get(task=task).outcome == S.CANCELLED


def test_a_time_limit_ends_the_task_as_timeout(owner, temp_kind, gate, emt):
    name = temp_kind("tmp_spinning", spinning, needs_model=True)
    task = enqueue_task(owner=owner, kind=name, params={}, model=emt, time_limit_s=1)
    started = time.monotonic()
    done = run_task_inline(task, device="cpu")
    assert done.status == S.TIMEOUT and "time limit of 1 s" in done.error
    assert time.monotonic() - started < 10


def test_cancel_between_claim_and_start_never_runs(owner, task):
    claimed = claim_next_task(None)
    cancel_task(Task.objects.get(pk=claimed.pk), by="test")
    after = runner.execute_task(claimed, device="cpu")
    assert after.status == S.CANCELLED and after.started_at is None
    assert not after.log_lines.filter(message__contains="→ RUNNING").exists()


def test_the_final_write_survives_a_dropped_database_connection(owner, task, monkeypatch):
    real = runner._record_final
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "_record_final", flaky)
    done = run_task_inline(task, device="cpu")
    assert calls["n"] == 2 and done.status == S.COMPLETED and done.result["energy_ev"] is not None


def test_artifacts_are_kept_per_attempt_and_only_the_winners_remain(owner, task):
    done = run_task_inline(task, device="cpu")
    paths = list(done.artifacts.values_list("path", "attempt"))
    assert paths and all(p.startswith(f"artifacts/{task.pk}/a1/") and a == 1 for p, a in paths)


def test_the_calculator_hook_is_removed_after_the_task(emt):
    from ase.build import bulk

    from models_app import cache

    calc = cache.get_calculator(emt.spec(), "cpu")
    seen = []
    with checked_calculator(calc, lambda: seen.append(1)):
        atoms = bulk("Cu", cubic=True)
        atoms.calc = calc
        atoms.get_potential_energy()
    atoms.rattle(0.01, seed=1)
    atoms.get_potential_energy()
    assert seen == [1] and "calculate" not in vars(calc)


def test_the_api_shows_the_attempt_history_and_why_a_task_waits(api, owner, task):
    claimed = claim_next_task(None)
    leases.fail_over(claimed, "test: node went silent")
    with override_settings(TASK_WAIT_EXPLAIN_AFTER_S=0):
        body = api.get(f"/api/v1/tasks/{task.pk}/").json()
    assert body["status"] == "QUEUED"
    assert body["attempt_history"][0]["number"] == 1 and body["attempt_history"][0]["outcome"] == "QUEUED"
    assert "node went silent" in body["attempt_history"][0]["reason"]
    assert body["wait_reason"].startswith("no worker node is online")


def test_the_task_page_shows_attempts(owner_client, task):
    claim_next_task(None)
    html = owner_client.get(f"/tasks/{task.pk}/").content.decode()
    assert "Attempts" in html and "inline" in html and "running" in html


def test_a_plain_reporter_still_works_without_a_platform(tmp_path):
    report = Reporter(tmp_path)
    report.progress(1, 2, energy=-1.0)
    assert report.points[-1]["energy"] == -1.0


def test_illegal_moves_stay_illegal_with_a_lease(owner, task):
    claimed = claim_next_task(None)
    with pytest.raises(IllegalTransition):
        transition(claimed, S.COMPLETED, lease=Lease.of(claimed))  # ASSIGNED cannot complete


@pytest.fixture
def cu_108(owner, tmp_path):
    """108 rattled Cu atoms: every task type runs for many seconds with EMT."""
    from ase.build import bulk
    from ase.io import write

    from structures_app.services import store_path

    atoms = bulk("Cu", "fcc", a=3.70, cubic=True).repeat((3, 3, 3))
    atoms.rattle(0.05, seed=7)
    write(tmp_path / "Cu108.cif", atoms)
    return store_path(tmp_path / "Cu108.cif", owner=owner, project="owner", name="Cu108")


LONG = {
    "optimization": {"fmax": 1e-6, "steps": 100_000},
    "stability": {"opt_steps": 0, "nvt_steps": 100_000, "npt_steps": 0, "trajectory_interval": 100_000},
    "bulk_modulus": {"relax_fmax": 1e-6, "relax_steps": 100_000},
    "heat_capacity": {"relax_steps": 0},
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(LONG))
def test_every_task_type_stops_within_two_seconds_of_a_cancel(owner, cu_108, emt, kind):
    from tasks_app.params import validate_params

    task = enqueue_task(owner=owner, kind=kind, params=validate_params(kind, LONG[kind]), structure=cu_108, model=emt)
    thread, box = run_in_thread(claim_next_task(None))
    wait_for(lambda: Task.objects.get(pk=task.pk).status == S.RUNNING, timeout=60)
    time.sleep(1.5)
    assert thread.is_alive(), f"{kind} finished before the cancel; make it longer"
    cancelled_at = time.monotonic()
    cancel_task(Task.objects.get(pk=task.pk), by="test")
    thread.join(15)
    stopped_after = time.monotonic() - cancelled_at
    assert not thread.is_alive() and stopped_after < 2.0, f"{kind}: {stopped_after:.2f} s"
    assert box["task"].status == S.CANCELLED
