"""Starting one pinned Dramatiq worker process per GPU (DESIGN.md rule 6).

Each child is ``manage.py rundramatiq -p 1 -t 1 -Q mofsim`` with ``CUDA_VISIBLE_DEVICES`` set to
its GPU, prefetch 1 (a worker never hoards messages another GPU could run), and a node name +
token. Without a GPU one CPU worker is started. The launcher restarts a child that dies.

Worker groups (``WORKER_GROUPS``) add workers started from another environment's interpreter —
model families pin incompatible packages, so a node pool mixes venvs or containers; each group's
workers offer only its families (``MOFSIM_FAMILIES``) and report what they really import.

Each child runs in its own process group (session), and the launcher always signals the whole
group: when ``rundramatiq``'s parent dies, its worker process must not live on as an orphan
that keeps computing (and heartbeating) next to its replacement. Housekeeping runs in its own
thread, so restarting a dead worker never waits behind a long pass.
"""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from nodes_app.services import register_local_node

logger = logging.getLogger(__name__)


@dataclass
class WorkerSpec:
    node_name: str
    gpu_index: int | None
    env: dict = field(default_factory=dict)
    queues: tuple[str, ...] = ("mofsim",)
    threads: int = 1
    is_node: bool = True  # GPU/CPU compute workers are nodes; the service worker is not
    python: str = sys.executable  # the interpreter (environment) the worker runs in


@dataclass(frozen=True)
class WorkerGroup:
    """Workers started from one environment: its interpreter, the families it offers, its GPUs."""

    name: str
    python: str
    families: tuple[str, ...] = ()  # empty: every family the environment imports
    gpus: tuple[int, ...] | None = None  # None: the machine's GPUs


def worker_groups(raw: str | None = None) -> list[WorkerGroup]:
    """Parse ``WORKER_GROUPS`` (JSON list); a clear ImproperlyConfigured names what is wrong."""
    raw = settings.WORKER_GROUPS if raw is None else raw
    if not raw.strip():
        return []
    try:
        items = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"WORKER_GROUPS is not JSON: {exc}") from exc
    if not isinstance(items, list):
        raise ImproperlyConfigured("WORKER_GROUPS must be a JSON list of groups")
    from models_app.families import FAMILIES

    groups = []
    for item in items:
        if not isinstance(item, dict) or not item.get("name") or not item.get("python"):
            raise ImproperlyConfigured(f"WORKER_GROUPS entry {item!r} needs 'name' and 'python'")
        if not os.access(item["python"], os.X_OK):
            raise ImproperlyConfigured(f"WORKER_GROUPS {item['name']}: {item['python']} is not an executable")
        unknown = set(item.get("families", [])) - set(FAMILIES)
        if unknown:
            raise ImproperlyConfigured(f"WORKER_GROUPS {item['name']}: unknown families {sorted(unknown)}")
        gpus = item.get("gpus")
        groups.append(WorkerGroup(str(item["name"]), item["python"], tuple(item.get("families", [])),
                                  None if gpus is None else tuple(int(g) for g in gpus)))  # fmt: skip
    return groups


def detect_gpus(requested: list[str] | None = None) -> list[int]:
    if requested:
        return [int(x) for x in requested]
    if settings.WORKER_GPUS:
        return [int(x) for x in settings.WORKER_GPUS]
    try:
        import torch

        return list(range(torch.cuda.device_count()))
    except ImportError:
        return []


def plan_workers(
    gpus: list[int], prefix: str | None = None, alerts: bool = True, groups: list[WorkerGroup] | None = None
) -> list[WorkerSpec]:
    """One compute worker per GPU (or one CPU worker), the same again for each worker group from
    its own interpreter, plus a service worker (alerts, model checks)."""
    prefix = prefix or socket.gethostname()
    specs = _compute_workers(gpus, prefix, sys.executable, {})
    for group in groups or []:
        env = {"MOFSIM_FAMILIES": ",".join(group.families)} if group.families else {}
        group_gpus = gpus if group.gpus is None else list(group.gpus)
        specs += _compute_workers(group_gpus, f"{prefix}/{group.name}", group.python, env)
    if alerts:
        # Webhooks and model-file checks are slow or untrusted: keep them off the GPU workers.
        service_env = {"CUDA_VISIBLE_DEVICES": "", "MOFSIM_DEVICE": "cpu"}
        specs.append(WorkerSpec(f"{prefix}/service", None, service_env, queues=("service",), threads=2, is_node=False))
    return specs


def _compute_workers(gpus: list[int], prefix: str, python: str, env: dict) -> list[WorkerSpec]:
    if not gpus:
        return [WorkerSpec(f"{prefix}/cpu", None, {"MOFSIM_DEVICE": "cpu", "CUDA_VISIBLE_DEVICES": "", **env},
                           python=python)]  # fmt: skip
    return [WorkerSpec(f"{prefix}/gpu{i}", i, {"CUDA_VISIBLE_DEVICES": str(i), **env}, python=python) for i in gpus]


def worker_command(queues=("mofsim",), threads: int = 1, python: str | None = None) -> list[str]:
    manage = str(settings.BASE_DIR / "manage.py")
    return [python or sys.executable, manage, "rundramatiq", "--processes", "1", "--threads", str(threads),
            "--queues", *queues, "--worker-shutdown-timeout", "10000"]  # fmt: skip


def start_worker(spec: WorkerSpec) -> subprocess.Popen:
    env = {**os.environ, **spec.env, "dramatiq_queue_prefetch": "1"}
    env.pop("MOFSIM_NODE_NAME", None)
    env.pop("MOFSIM_NODE_TOKEN", None)
    if spec.is_node:
        device = "cpu" if spec.gpu_index is None else "cuda"
        node, token = register_local_node(
            spec.node_name, hostname=socket.gethostname(), gpu_index=spec.gpu_index, device=device
        )
        env.update(MOFSIM_NODE_NAME=node.name, MOFSIM_NODE_TOKEN=token)
    return subprocess.Popen(worker_command(spec.queues, spec.threads, spec.python), env=env, start_new_session=True)


def signal_group(proc: subprocess.Popen, signum: int) -> None:
    """Signal every process of the child's group (the child is its group's leader)."""
    try:
        os.killpg(proc.pid, signum)
    except ProcessLookupError:
        pass


class HousekeepingThread(threading.Thread):
    """Runs ``housekeeping()`` every ``interval_s`` until ``stopped`` is set; errors are logged."""

    def __init__(self, housekeeping, interval_s: float):
        super().__init__(name="mofsim-housekeeping", daemon=True)
        self.housekeeping, self.interval_s = housekeeping, interval_s
        self.stopped = threading.Event()

    def run(self) -> None:
        from django.db import connection

        while not self.stopped.is_set():
            try:
                summary = self.housekeeping()
                if summary and any(summary.values()):
                    logger.info("housekeeping: %s", summary)
            except Exception:  # noqa: BLE001 - the next pass tries again
                logger.exception("housekeeping pass failed")
                connection.close()
            self.stopped.wait(self.interval_s)
        connection.close()


class Supervisor:
    """The launcher's loop: start one child per spec, restart any that dies, stop them all.

    Housekeeping passes run in a ``HousekeepingThread`` of their own: however long a pass takes
    (a big backlog, a slow database), this loop goes on polling its children every ``poll_s``."""

    def __init__(self, specs: list[WorkerSpec], housekeeping=None, poll_s: float = 0.5, housekeeping_every_s=None):
        self.specs, self.housekeeping, self.poll_s = specs, housekeeping, poll_s
        self.housekeeping_every_s = housekeeping_every_s or settings.HOUSEKEEPING_INTERVAL_S
        self.procs: dict[str, subprocess.Popen] = {}

    def run(self, stop) -> None:
        """Run until ``stop()`` is true."""
        self.procs = {spec.node_name: start_worker(spec) for spec in self.specs}
        keeper = None
        if self.housekeeping:
            keeper = HousekeepingThread(self.housekeeping, self.housekeeping_every_s)
            keeper.start()
        try:
            while not stop():
                self.restart_dead()
                time.sleep(self.poll_s)
        finally:
            if keeper is not None:
                keeper.stopped.set()
            self.stop_all()

    def restart_dead(self) -> None:
        """Restart every child that exited, after killing whatever its process group left."""
        for spec in self.specs:
            proc = self.procs[spec.node_name]
            if proc.poll() is not None:
                signal_group(proc, signal.SIGKILL)  # whatever the dead child left behind
                print(f"worker {spec.node_name} exited with {proc.returncode}; restarting", flush=True)
                time.sleep(1)
                self.procs[spec.node_name] = start_worker(spec)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            signal_group(proc, signal.SIGKILL)


def supervise(specs: list[WorkerSpec], housekeeping, stop, poll_s: float = 0.5, housekeeping_every_s=None):
    """Run until ``stop()`` is true: restart dead children (and kill what they left), run housekeeping."""
    Supervisor(specs, housekeeping, poll_s, housekeeping_every_s).run(stop)
