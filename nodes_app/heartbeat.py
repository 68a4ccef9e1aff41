"""The worker side of heartbeats: what a node reports, and how it is sent.

With ``MOFSIM_SERVER_URL`` set the heartbeat goes to the HTTP API with the node token (a node on
another machine); otherwise the worker shares the database and calls the same service directly —
still authenticated with its token. Each heartbeat names the attempt the process is running
(``task``/``lease``), so the server can fail over what the node holds but no longer runs; the
first one says ``boot``, so what a crashed predecessor held is failed over at once.

A heartbeat rejected for its token means the launcher has started a successor under this
node's name: this process is an orphan, and it stops itself rather than compete.
"""

import logging
import os
import signal
import threading

import requests

from models_app import cache, families
from models_app.loaders import package_versions
from mofsim_site.worker_config import worker_config
from nodes_app.commands import CommandRunner
from nodes_app.services import BadNodeToken, authenticate_node, record_heartbeat
from tasks_app import worker_context

logger = logging.getLogger(__name__)


class Superseded(Exception):
    """The server no longer accepts this process's node token (a successor took the node over)."""


def offered_families() -> dict[str, dict]:
    """The families this process can load (probed once), narrowed by ``MOFSIM_FAMILIES`` if set."""
    found = families.available()
    wanted = worker_config().families
    return {key: versions for key, versions in found.items() if wanted is None or key in wanted}


def collect_facts(device: str, with_families: bool | None = None) -> dict:
    """What a heartbeat reports. The family probe imports every family's packages (a minute on a
    loaded machine), so heartbeats never wait for it: by default (None) families are reported
    once this process has probed them; True probes now, False leaves them out."""
    if with_families is None:
        with_families = families.probed()
    lease = worker_context.current_lease()
    offered = offered_families() if with_families else {}
    versions = package_versions("")
    for family_versions in offered.values():
        versions.update(family_versions)
    facts = {
        "device": device,
        "pid": os.getpid(),
        "loaded_models": cache.loaded_names(),
        "versions": versions,
        "task": str(lease.task_id) if lease else None,
        "lease": str(lease.token) if lease else None,
    }
    if with_families:
        facts["families"] = sorted(offered)
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
    server = worker_config().server_url
    if server:
        response = requests.post(
            f"{server}/api/v1/nodes/heartbeat",
            json={"name": name, **facts},
            headers={"Authorization": f"Node {token}"},
            timeout=10,
        )
        if response.status_code in (401, 403):
            raise Superseded(f"server refused the node token for {name}: HTTP {response.status_code}")
        response.raise_for_status()
        return
    from django.db import close_old_connections

    close_old_connections()
    try:
        node = authenticate_node(name, token)
    except BadNodeToken as exc:
        raise Superseded(f"node token for {name} was replaced") from exc
    record_heartbeat(node, facts)


class HeartbeatThread(threading.Thread):
    """Beats every ``interval_s`` from its own thread, whatever the task thread is doing."""

    def __init__(self, name: str, token: str, device: str, interval_s: float):
        super().__init__(name="mofsim-heartbeat", daemon=True)
        self.node_name, self.token, self.device, self.interval_s = name, token, device, interval_s
        self.stopped = threading.Event()
        self.commands = CommandRunner(name, device)  # operators' load/unload requests

    def run(self) -> None:
        while not self.stopped.wait(self.interval_s):
            try:
                send_heartbeat(self.node_name, self.token, collect_facts(self.device))
                self.commands.poll()
            except Superseded:
                logger.error("%s: a newer worker owns this node; this orphaned process stops", self.node_name)
                os.kill(os.getpid(), signal.SIGTERM)  # dramatiq's graceful stop; our writes are fenced anyway
                return
            except Exception:  # noqa: BLE001 - keep beating; lease expiry decides liveness
                logger.warning("heartbeat for %s failed", self.node_name, exc_info=True)
        from django.db import connection

        connection.close()
