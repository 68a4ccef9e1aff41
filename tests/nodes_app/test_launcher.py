"""The launcher plans one pinned worker per GPU (or one CPU worker) and really starts them."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from nodes_app.launcher import Supervisor, WorkerSpec, plan_workers, worker_command
from nodes_app.models import WorkerNode
from tests.conftest import wait_for


def test_it_plans_one_worker_per_gpu():
    specs = plan_workers([0, 1, 3], prefix="node7")
    compute = [s for s in specs if s.is_node]
    assert [s.node_name for s in compute] == ["node7/gpu0", "node7/gpu1", "node7/gpu3"]
    assert [s.env["CUDA_VISIBLE_DEVICES"] for s in compute] == ["0", "1", "3"]
    assert all(s.threads == 1 and s.queues == ("mofsim",) for s in compute)
    assert [s.queues for s in specs if not s.is_node] == [("service",)]


def test_without_a_gpu_it_plans_one_cpu_worker():
    specs = [s for s in plan_workers([], prefix="laptop") if s.is_node]
    assert len(specs) == 1 and specs[0].node_name == "laptop/cpu"
    assert specs[0].env == {"MOFSIM_DEVICE": "cpu", "CUDA_VISIBLE_DEVICES": ""}


def test_worker_command_is_pinned():
    cmd = worker_command()
    assert cmd[cmd.index("--processes") + 1] == "1" and cmd[cmd.index("--threads") + 1] == "1"
    assert cmd[cmd.index("--queues") + 1] == "mofsim"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_launcher_starts_a_worker_that_registers_and_heartbeats(tmp_path):
    """A real `manage.py run_gpu_workers` process: its CPU worker becomes an ONLINE node."""
    import os

    from django.conf import settings

    env = {**os.environ, "NODE_HEARTBEAT_INTERVAL_S": "1"}
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = ""  # same WORKDIR -> the launcher uses the test database file below
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_gpu_workers", "--name-prefix", "ci-launcher", "--no-housekeeping"],
        env={**env, "DJANGO_SETTINGS_MODULE": "tests.launcher_settings", "MOFSIM_TEST_DB": str(db["NAME"])},
        cwd=settings.BASE_DIR,
    )
    try:
        node = wait_for(lambda: WorkerNode.objects.filter(name="ci-launcher/cpu", status="online").first(), timeout=90)
        first = node.last_heartbeat
        time.sleep(2.5)
        node.refresh_from_db()
        assert node.last_heartbeat > first, "the worker should keep heartbeating"
        assert node.device == "cpu" and node.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@pytest.mark.slow
def test_a_dead_worker_is_restarted_while_a_slow_housekeeping_pass_runs():
    """Housekeeping runs beside the supervision loop: a pass that takes minutes (a huge backlog,
    a slow database) must not delay restarting a worker that died."""
    from django.conf import settings

    in_pass, release = threading.Event(), threading.Event()

    def slow_pass():
        in_pass.set()
        release.wait(300)
        return {}

    env = {"CUDA_VISIBLE_DEVICES": "", "DJANGO_SETTINGS_MODULE": "tests.launcher_settings",
           "MOFSIM_TEST_DB": str(settings.DATABASES["default"]["NAME"])}  # fmt: skip
    spec = WorkerSpec("ci-slow-hk/service", None, env, queues=("service",), is_node=False)
    supervisor = Supervisor([spec], slow_pass, poll_s=0.1, housekeeping_every_s=0.1)
    stopping = threading.Event()
    loop = threading.Thread(target=supervisor.run, args=(stopping.is_set,), daemon=True)
    loop.start()
    try:
        assert in_pass.wait(60), "the housekeeping pass should have started"
        first = wait_for(lambda: supervisor.procs.get(spec.node_name), timeout=30)
        os.killpg(first.pid, signal.SIGKILL)
        second = wait_for(lambda: supervisor.procs[spec.node_name] is not first and supervisor.procs[spec.node_name],
                          timeout=30)  # fmt: skip
        assert first.poll() is not None and second.poll() is None
        assert not release.is_set() and loop.is_alive()  # restarted while the pass was still running
    finally:
        release.set()
        stopping.set()
        loop.join(timeout=60)
    assert not loop.is_alive() and second.poll() is not None  # stopping ends the children too


def test_worker_groups_start_workers_from_their_own_interpreter_with_their_families():
    from nodes_app.launcher import WorkerGroup

    groups = [WorkerGroup("chgnet", "/opt/venvs/chgnet/bin/python", ("chgnet",)), WorkerGroup("orb", "/x/py", (), (2,))]
    specs = [s for s in plan_workers([0, 1], prefix="n", groups=groups) if s.is_node]
    assert [s.node_name for s in specs] == ["n/gpu0", "n/gpu1", "n/chgnet/gpu0", "n/chgnet/gpu1", "n/orb/gpu2"]
    assert specs[0].python == sys.executable and "MOFSIM_FAMILIES" not in specs[0].env
    assert specs[2].python == "/opt/venvs/chgnet/bin/python" and specs[2].env["MOFSIM_FAMILIES"] == "chgnet"
    assert specs[4].env == {"CUDA_VISIBLE_DEVICES": "2"}
    assert worker_command(python=specs[2].python)[0] == "/opt/venvs/chgnet/bin/python"
    cpu = [s for s in plan_workers([], prefix="laptop", groups=groups[:1]) if s.is_node]
    assert [s.node_name for s in cpu] == ["laptop/cpu", "laptop/chgnet/cpu"]


@pytest.mark.parametrize(
    "raw, message",
    [
        ("{", "not JSON"),
        ('{"name": "a"}', "JSON list"),
        ('[{"name": "a"}]', "needs 'name' and 'python'"),
        ('[{"name": "a", "python": "/nonexistent/python"}]', "is not an executable"),
        (f'[{{"name": "a", "python": "{sys.executable}", "families": ["nope"]}}]', "unknown families"),
    ],
)
def test_bad_worker_groups_are_refused_with_the_reason(raw, message):
    from django.core.exceptions import ImproperlyConfigured

    from nodes_app.launcher import worker_groups

    with pytest.raises(ImproperlyConfigured, match=message):
        worker_groups(raw)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_group_registers_a_node_offering_only_its_families():
    """A real launcher with WORKER_GROUPS: the group's worker comes up from the named interpreter
    as its own node and reports only the group's families (CHGNet)."""
    import json
    import os

    from django.conf import settings

    pytest.importorskip("chgnet")

    python = str(settings.BASE_DIR / ".venv" / "bin" / "python")  # another path to an environment
    groups = json.dumps([{"name": "chg", "python": python, "families": ["chgnet"]}])
    env = {**os.environ, "NODE_HEARTBEAT_INTERVAL_S": "1", "WORKER_GROUPS": groups}
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = ""
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_gpu_workers", "--name-prefix", "ci-groups", "--no-housekeeping",
         "--no-service-worker"],
        env={**env, "DJANGO_SETTINGS_MODULE": "tests.launcher_settings", "MOFSIM_TEST_DB": str(db["NAME"])},
        cwd=settings.BASE_DIR,
    )  # fmt: skip
    try:

        def probed(name):  # online first (boot heartbeat), families once the process has probed them
            return WorkerNode.objects.filter(name=name, status="online").exclude(families=[]).first()

        main = wait_for(lambda: probed("ci-groups/cpu"), 300)
        group = wait_for(lambda: probed("ci-groups/chg/cpu"), 300)
        assert {"emt", "mace", "sevennet"} <= set(main.families) and "chgnet" in main.families
        assert group.families == ["chgnet"] and group.versions["chgnet"] == "0.4.2"
    finally:
        proc.terminate()
        proc.wait(timeout=60)
