"""The worker side of ``bench/throughput.py``: Django set up, mofsim's actors and a raw no-op actor.

Run by the benchmark as ``python -m dramatiq bench.throughput_worker -p 1 -t 1 -Q mofsim bench-raw``
(one process, one thread, prefetch 1: what the launcher runs per GPU), and imported by the
benchmark itself so it can send to the no-op actor. With ``THROUGHPUT_STOCK_BROKER`` set the
worker has only the no-op actor, on Dramatiq's own ``RedisBroker``.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mofsim_site.settings")

import django  # noqa: E402

django.setup()

import dramatiq  # noqa: E402

RAW_QUEUE = "bench-raw"

if os.environ.get("THROUGHPUT_STOCK_BROKER"):
    # Stock Dramatiq on the same Redis and namespace, for the raw no-op only: what a plain
    # Dramatiq worker gives, without mofsim's consumer (mofsim_site.broker).
    from dramatiq.brokers.redis import RedisBroker

    configured = dramatiq.get_broker()
    dramatiq.set_broker(RedisBroker(client=configured.client, namespace=configured.namespace))
else:
    import tasks_app.tasks  # noqa: F401 - the mofsim actor this worker consumes


@dramatiq.actor(queue_name=RAW_QUEUE, max_retries=0)
def noop(i: int) -> None:
    """Does nothing: what the broker and Dramatiq alone cost per message."""
