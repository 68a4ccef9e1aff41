"""What a worker process knows about itself: its node row, device and current task.

Set up by ``NodeMiddleware.after_worker_boot`` from the environment the launcher gives each
worker process (``MOFSIM_NODE_NAME``, ``MOFSIM_NODE_TOKEN``, ``CUDA_VISIBLE_DEVICES``). Outside
a worker (tests, ``--sync`` runs) there is no node and the device is picked at call time.
"""

import threading

_state = {"node_id": None, "device": None, "task_id": None}
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


def set_current_task(task_id) -> None:
    _state["task_id"] = str(task_id) if task_id else None


def current_task_id():
    return _state["task_id"]


def loaded_model_ids(names) -> list[int]:
    from models_app.models import MLModel

    return list(MLModel.objects.filter(name__in=list(names)).values_list("pk", flat=True))
