"""Start the worker processes of this machine (one per GPU, or one CPU worker) and supervise them.

``WORKER_GROUPS`` adds the same per GPU from other environments (docs/models.md, "Environments").

Not called ``runworker``: Channels ships a command of that name.
"""

import signal

from django.core.management.base import BaseCommand

from nodes_app.housekeeping import housekeeping_pass
from nodes_app.launcher import detect_gpus, plan_workers, supervise, worker_groups


class Command(BaseCommand):
    help = "Start one pinned Dramatiq worker per GPU (or one CPU worker) and keep them running."

    def add_arguments(self, parser):
        parser.add_argument("--gpus", help="comma-separated GPU indices (default: WORKER_GPUS or all visible)")
        parser.add_argument("--name-prefix", help="node name prefix (default: hostname)")
        parser.add_argument(
            "--no-housekeeping",
            action="store_true",
            help="do not reap stale nodes / re-send lost messages from this launcher",
        )
        parser.add_argument(
            "--no-service-worker",
            action="store_true",
            help="start no service worker (alerts, model-file checks): another machine runs it",
        )

    def handle(self, *args, **opts):
        gpus = detect_gpus(opts["gpus"].split(",") if opts["gpus"] else None)
        specs = plan_workers(gpus, opts["name_prefix"], alerts=not opts["no_service_worker"], groups=worker_groups())
        stopping = {"flag": False}

        def on_signal(signum, frame):
            stopping["flag"] = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        names = ", ".join(s.node_name for s in specs)
        self.stdout.write(f"starting {len(specs)} worker(s): {names}")
        supervise(specs, None if opts["no_housekeeping"] else housekeeping_pass, lambda: stopping["flag"])
        self.stdout.write("workers stopped")
