"""Starting one pinned Dramatiq worker process per GPU (DESIGN.md rule 6).

Each child is ``manage.py rundramatiq -p 1 -t 1 -Q mofsim`` with ``CUDA_VISIBLE_DEVICES`` set to
its GPU, prefetch 1 (a worker never hoards messages another GPU could run), and a node name +
token. Without a GPU one CPU worker is started. The launcher restarts a child that dies.
"""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field

from django.conf import settings

from nodes_app.services import register_local_node


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
    return subprocess.Popen(worker_command(spec.queues, spec.threads), env=env)


def supervise(specs: list[WorkerSpec], housekeeping, stop, poll_s: float = 1.0, housekeeping_every_s: float = 15.0):
    """Run until ``stop()`` is true: restart dead children, run housekeeping periodically."""
    procs = {spec.node_name: start_worker(spec) for spec in specs}
    last_housekeeping = 0.0
    try:
        while not stop():
            for spec in specs:
                proc = procs[spec.node_name]
                if proc.poll() is not None:
                    print(f"worker {spec.node_name} exited with {proc.returncode}; restarting", flush=True)
                    time.sleep(2)
                    procs[spec.node_name] = start_worker(spec)
            if housekeeping and time.monotonic() - last_housekeeping > housekeeping_every_s:
                housekeeping()
                last_housekeeping = time.monotonic()
            time.sleep(poll_s)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
