"""A worker process's configuration, read in one place (the launcher sets it per process).

| variable | meaning |
| --- | --- |
| ``MOFSIM_NODE_NAME`` / ``MOFSIM_NODE_TOKEN`` | the node this process is (set by ``run_gpu_workers``) |
| ``MOFSIM_SERVER_URL`` | a node on another machine: inputs, heartbeats and results go over HTTP |
| ``MOFSIM_NODE_CACHE_DIR`` | where such a node keeps downloaded inputs (default ``WORKDIR``) |
| ``MOFSIM_DEVICE`` | force ``cpu``/``cuda`` (default: CUDA when present) |
| ``MOFSIM_FAMILIES`` | comma-separated model families this worker offers (default: all it can import) |
| ``MOFSIM_MODEL_CACHE_SIZE`` | models a worker keeps loaded; the least recently used is unloaded past it (default 4) |

Read at each call, not at import: the launcher starts each worker with its own values, and tests
switch a process between roles. A call whose variables (and WORKDIR, and the working directory
a relative cache path resolves against) are those of the previous call gets the previous answer:
a worker asks several times per task, and resolving the cache path costs file-system calls
(issue 12). A remote node without its credentials fails with one error
(``WorkerConfigError``), wherever the credentials are first needed.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from mofsim_site.env import env_int
from mofsim_site.executors import ExecutorError


class WorkerConfigError(ExecutorError):
    """The worker's environment is incomplete (shown as the task's error)."""


@dataclass(frozen=True)
class WorkerConfig:
    node_name: str
    node_token: str
    server_url: str
    cache_dir: Path
    device: str
    families: frozenset[str] | None = None  # None: every family the environment imports
    model_cache_size: int = 4

    @property
    def is_node(self) -> bool:
        return bool(self.node_name and self.node_token)

    @property
    def remote(self) -> bool:
        return bool(self.server_url)

    def credentials(self) -> tuple[str, str]:
        """Node name and token; ``WorkerConfigError`` when a remote node lacks them."""
        if not self.is_node:
            raise WorkerConfigError("MOFSIM_SERVER_URL is set but MOFSIM_NODE_NAME/MOFSIM_NODE_TOKEN are not")
        return self.node_name, self.node_token


_VARIABLES = ("MOFSIM_NODE_NAME", "MOFSIM_NODE_TOKEN", "MOFSIM_SERVER_URL", "MOFSIM_NODE_CACHE_DIR", "MOFSIM_DEVICE",
              "MOFSIM_FAMILIES", "MOFSIM_MODEL_CACHE_SIZE")  # fmt: skip
_last: list = [(None, None)]  # (key, config) of the previous call, swapped as one tuple (threads)


def worker_config() -> WorkerConfig:
    env = os.environ
    key = (tuple(env.get(name) for name in _VARIABLES), str(settings.WORKDIR), os.getcwd())
    last_key, last = _last[0]
    if last_key == key:
        return last
    config = _read(env)
    _last[0] = (key, config)
    return config


def _read(env) -> WorkerConfig:
    return WorkerConfig(
        node_name=env.get("MOFSIM_NODE_NAME", ""),
        node_token=env.get("MOFSIM_NODE_TOKEN", ""),
        server_url=env.get("MOFSIM_SERVER_URL", "").rstrip("/"),
        cache_dir=Path(env.get("MOFSIM_NODE_CACHE_DIR") or settings.WORKDIR).resolve(),
        device=env.get("MOFSIM_DEVICE", "").strip().lower(),
        families=_families(env.get("MOFSIM_FAMILIES", "")),
        model_cache_size=_positive_int("MOFSIM_MODEL_CACHE_SIZE", 4),
    )


def _positive_int(name: str, default: int) -> int:
    """The settings' own integer reader (``mofsim_site.env``), failing as a worker config error."""
    try:
        number = env_int(name, default)
    except ImproperlyConfigured as exc:
        raise WorkerConfigError(str(exc)) from exc
    if number < 1:
        raise WorkerConfigError(f"{name} must be a positive integer, got {number}")
    return number


def _families(value: str) -> frozenset[str] | None:
    names = frozenset(part.strip().lower() for part in value.split(",") if part.strip())
    return names or None
