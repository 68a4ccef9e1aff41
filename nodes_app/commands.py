"""Loading and unloading models on nodes (operators warm a GPU before a campaign, or free it).

``request`` writes one ``NodeCommand`` per node (API, admin); a worker's ``CommandRunner``, polled
by its heartbeat thread, claims its node's pending commands with a conditional update and runs
them in a thread of its own, through the same model cache tasks use (``models_app.cache``).
"""

import logging
import threading

from django.db import connection
from django.utils import timezone

from models_app import cache
from models_app.hub_weights import ensure_hub_weights
from models_app.models import MLModel
from nodes_app.choices import NodeStatus
from nodes_app.models import NodeCommand, WorkerNode
from tasks_app.inputs import ensure_local_model

logger = logging.getLogger(__name__)
A, STATE = NodeCommand.Action, NodeCommand.State


class CommandError(ValueError):
    """The request names no usable model or no node (the API answers 400/404 with this text)."""


def request(action: str, model_name: str, node_names=None, user=None) -> list[NodeCommand]:
    """One pending command per named node (default: every online, enabled node)."""
    if action == A.LOAD and not MLModel.objects.usable().filter(name=model_name).exists():
        raise CommandError(f"no enabled, validated model named {model_name!r}")
    if action == A.UNLOAD and model_name and not MLModel.objects.filter(name=model_name).exists():
        raise CommandError(f"no model named {model_name!r}")
    nodes = WorkerNode.objects.filter(enabled=True)
    if node_names:
        nodes = nodes.filter(name__in=node_names)
        missing = sorted(set(node_names) - set(nodes.values_list("name", flat=True)))
        if missing:
            raise CommandError(f"no enabled node named {', '.join(missing)}")
    else:
        nodes = nodes.filter(status=NodeStatus.ONLINE)
    rows = [NodeCommand(node=node, action=action, model_name=model_name or "", requested_by=user) for node in nodes]
    if not rows:
        raise CommandError("no online node to send it to")
    return NodeCommand.objects.bulk_create(rows)


def run(command: NodeCommand, device: str) -> NodeCommand:
    """Carry out one claimed command in this worker process; never raises."""
    try:
        if command.action == A.LOAD:
            model = MLModel.objects.usable().get(name=command.model_name)
            cache.get_calculator(ensure_hub_weights(model, ensure_local_model(model.spec())), device)
            message = f"{command.model_name} loaded on {device}"
        else:
            n = cache.unload(command.model_name or None)
            message = f"unloaded {n} cached calculator(s)"
        state = STATE.DONE
    except Exception as exc:  # noqa: BLE001 - reported on the command row
        logger.warning("node command %s failed", command.pk, exc_info=True)
        state, message = STATE.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
    NodeCommand.objects.filter(pk=command.pk).update(state=state, message=message, finished_at=timezone.now())
    command.state, command.message = state, message
    return command


def claim(node_name: str) -> list[NodeCommand]:
    """This node's pending commands, each moved to RUNNING by exactly one claimer."""
    claimed = []
    for command in NodeCommand.objects.filter(node__name=node_name, state=STATE.PENDING).order_by("created_at"):
        if NodeCommand.objects.filter(pk=command.pk, state=STATE.PENDING).update(state=STATE.RUNNING):
            claimed.append(command)
    return claimed


class CommandRunner:
    """Polled by the heartbeat thread; runs claimed commands one thread at a time."""

    def __init__(self, node_name: str, device: str):
        self.node_name, self.device = node_name, device
        self._thread: threading.Thread | None = None

    def poll(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        commands = claim(self.node_name)
        if commands:
            self._thread = threading.Thread(target=self._run_all, args=(commands,), name="mofsim-commands", daemon=True)
            self._thread.start()

    def _run_all(self, commands) -> None:
        try:
            for command in commands:
                run(command, self.device)
        finally:
            connection.close()
