"""Dramatiq middleware that makes each worker process a registered, heartbeating node.

The node is bound in ``before_worker_boot``: Dramatiq starts its consumers between
``before_worker_boot`` and ``after_worker_boot``, so binding any later would let the worker
claim a task before it has a node — a task nothing could fail over if that worker died.
"""

import logging

from dramatiq.middleware import Middleware

from mofsim_site.worker_config import worker_config

logger = logging.getLogger(__name__)


class NodeMiddleware(Middleware):
    def __init__(self):
        self.thread = None

    def before_worker_boot(self, broker, worker):
        config = worker_config()
        name, token = config.node_name, config.node_token
        if not config.is_node:
            logger.info("no MOFSIM_NODE_NAME/MOFSIM_NODE_TOKEN: this worker runs without a node row")
            return
        from django.conf import settings

        # deferred: Dramatiq builds its middleware while Django's apps are still loading
        from models_app.devices import pick_device
        from nodes_app.heartbeat import HeartbeatThread, collect_facts, send_heartbeat
        from nodes_app.models import WorkerNode
        from tasks_app import worker_context

        device = pick_device()
        # Fails fast on a bad token; "boot" fails over whatever a crashed predecessor held.
        send_heartbeat(name, token, {**collect_facts(device, with_families=False), "boot": True})
        self.thread = HeartbeatThread(name, token, device, settings.NODE_HEARTBEAT_INTERVAL_S)
        self.thread.start()  # beats on while the families are probed below
        # The model families this environment loads (imports: slow), stored before any claim.
        send_heartbeat(name, token, collect_facts(device, with_families=True))
        node = WorkerNode.objects.get(name=name)
        worker_context.configure(node, device, families=node.families)
        logger.info("worker registered as node %s on %s", name, device)

    def before_worker_shutdown(self, broker, worker):
        if self.thread is not None:
            self.thread.stopped.set()
