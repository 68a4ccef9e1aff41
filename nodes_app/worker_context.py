"""What a worker process knows about itself: its node row, device and the attempt it runs.

Set up by ``NodeMiddleware.before_worker_boot`` from the environment the launcher gives each
worker process (``MOFSIM_NODE_NAME``, ``MOFSIM_NODE_TOKEN``, ``CUDA_VISIBLE_DEVICES``) — before
the worker consumes any message, so no task is ever claimed without its node. Outside a worker
(tests, ``--sync`` runs) there is no node and the device is picked at call time.
"""

import threading

_state = {"node_id": None, "device": None, "lease": None}
_lock = threading.Lock()


def configure(node_id, device: str) -> None:
    with _lock:
        _state.update(node_id=node_id, device=device)


def current_node():
    from nodes_app.models import WorkerNode

    node_id = _state["node_id"]
    return WorkerNode.objects.filter(pk=node_id).first() if node_id else None


def device() -> str | None:
    return _state["device"]


def set_current_lease(lease) -> None:
    """The attempt this process runs now (``tasks_app.state.Lease``), reported with each heartbeat."""
    _state["lease"] = lease


def current_lease():
    return _state["lease"]


def loaded_model_ids(names) -> list[int]:
    from models_app.models import MLModel

    return list(MLModel.objects.filter(name__in=list(names)).values_list("pk", flat=True))
