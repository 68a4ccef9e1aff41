"""What a worker process knows about itself: its node row, device and the attempt it runs.

Set up by ``NodeMiddleware.before_worker_boot`` from the environment the launcher gives each
worker process (``MOFSIM_NODE_NAME``, ``MOFSIM_NODE_TOKEN``, ``CUDA_VISIBLE_DEVICES``) — before
the worker consumes any message, so no task is ever claimed without its node. Outside a worker
(tests, ``--sync`` runs) there is no node and the device is picked at call time.
"""

import threading

from models_app.models import MLModel

_state: dict = {"node": None, "device": None, "lease": None, "families": None}
_lock = threading.Lock()


def configure(node, device: str, families=None) -> None:
    """Bind this process to its node row (a ``nodes_app.WorkerNode``; the core only needs the row)
    and the model families it reported it can load (None: no restriction)."""
    with _lock:
        _state.update(node=node, device=device, families=None if families is None else list(families))


def families() -> list[str] | None:
    """The model families this worker may claim tasks for; None outside a worker (tests, ``--sync``)."""
    return _state["families"]


def current_node():
    """The bound node, re-read (an operator may have disabled it); None outside a worker."""
    node = _state["node"]
    if node is None:
        return None
    return type(node).objects.filter(pk=node.pk).first()


def device() -> str | None:
    return _state["device"]


def set_current_lease(lease) -> None:
    """The attempt this process runs now (``tasks_app.state.Lease``), reported with each heartbeat."""
    _state["lease"] = lease


def current_lease():
    return _state["lease"]


_model_ids: dict[str, int] = {}  # name → id of the models this process loaded (a hint for affinity)


def loaded_model_ids(names) -> list[int]:
    """Ids of the loaded models; a name is looked up once per process, not at every wake-up."""
    missing = [name for name in names if name not in _model_ids]
    if missing:
        _model_ids.update(MLModel.objects.filter(name__in=missing).values_list("name", "pk"))
    return [_model_ids[name] for name in names if name in _model_ids]
