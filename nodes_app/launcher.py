"""Starting one pinned Dramatiq worker process per GPU (DESIGN.md rule 6).

Each child is ``manage.py rundramatiq -p 1 -t 1 -Q mofsim`` with ``CUDA_VISIBLE_DEVICES`` set to
its GPU, prefetch 1 (a worker never hoards messages another GPU could run), and a node name +
token. Without a GPU one CPU worker is started. The launcher restarts a child that dies.

Each child runs in its own process group (session), and the launcher always signals the whole
group: when ``rundramatiq``'s parent dies, its worker process must not live on as an orphan
that keeps computing (and heartbeating) next to its replacement. Housekeeping runs in its own
thread, so restarting a dead worker never waits behind a long pass.
"""

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


def plan_workers(gpus: list[int], prefix: str | None = None, alerts: bool = True) -> list[WorkerSpec]:
    """One compute worker per GPU (or one CPU worker), plus a service worker (alerts, model checks)."""
    prefix = prefix or socket.gethostname()
    if not gpus:
        specs = [WorkerSpec(f"{prefix}/cpu", None, {"MOFSIM_DEVICE": "cpu", "CUDA_VISIBLE_DEVICES": ""})]
    else:
        specs = [WorkerSpec(f"{prefix}/gpu{i}", i, {"CUDA_VISIBLE_DEVICES": str(i)}) for i in gpus]
    if alerts:
        # Webhooks and model-file checks are slow or untrusted: keep them off the GPU workers.
        service_env = {"CUDA_VISIBLE_DEVICES": "", "MOFSIM_DEVICE": "cpu"}
        specs.append(WorkerSpec(f"{prefix}/service", None, service_env, queues=("service",), threads=2, is_node=False))
    return specs


def worker_command(queues=("mofsim",), threads: int = 1) -> list[str]:
    manage = str(settings.BASE_DIR / "manage.py")
    return [sys.executable, manage, "rundramatiq", "--processes", "1", "--threads", str(threads),
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
    return subprocess.Popen(worker_command(spec.queues, spec.threads), env=env, start_new_session=True)


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
