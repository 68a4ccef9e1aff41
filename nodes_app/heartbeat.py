"""The worker side of heartbeats: what a node reports, and how it is sent.

With ``MOFSIM_SERVER_URL`` set the heartbeat goes to the HTTP API with the node token (a node on
another machine); otherwise the worker shares the database and calls the same service directly —
still authenticated with its token.
"""

import logging
import os
import threading

import requests

logger = logging.getLogger(__name__)


def collect_facts(device: str) -> dict:
    from models_app import cache
    from models_app.loaders import package_versions
    from nodes_app import worker_context

    facts = {
        "device": device,
        "pid": os.getpid(),
        "loaded_models": cache.loaded_names(),
        "versions": package_versions(""),
    }
    facts["versions"]["current_task"] = worker_context.current_task_id()
    if device.startswith("cuda"):
        import torch

        free, total = torch.cuda.mem_get_info()
        facts.update(
            gpu_name=torch.cuda.get_device_name(),
            gpu_memory_total_mb=total // 2**20,
            gpu_memory_used_mb=(total - free) // 2**20,
        )
        try:
            facts["gpu_utilization"] = float(torch.cuda.utilization())
        except Exception:  # noqa: BLE001 - needs pynvml; optional
            pass
    return facts


def send_heartbeat(name: str, token: str, facts: dict) -> None:
    server = os.environ.get("MOFSIM_SERVER_URL", "").rstrip("/")
    if server:
        response = requests.post(
            f"{server}/api/v1/nodes/heartbeat",
            json={"name": name, **facts},
            headers={"Authorization": f"Node {token}"},
            timeout=10,
        )
        response.raise_for_status()
        return
    from django.db import close_old_connections

    from nodes_app.services import authenticate_node, record_heartbeat

    close_old_connections()
    record_heartbeat(authenticate_node(name, token), facts)


class HeartbeatThread(threading.Thread):
    def __init__(self, name: str, token: str, device: str, interval_s: float):
        super().__init__(name="mofsim-heartbeat", daemon=True)
        self.node_name, self.token, self.device, self.interval_s = name, token, device, interval_s
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                send_heartbeat(self.node_name, self.token, collect_facts(self.device))
            except Exception:  # noqa: BLE001 - keep beating; the reaper decides liveness
                logger.warning("heartbeat for %s failed", self.node_name, exc_info=True)
            self.stopped.wait(self.interval_s)
