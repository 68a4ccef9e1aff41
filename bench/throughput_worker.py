"""The worker side of ``bench/throughput.py``: Django set up, mofsim's actors and a raw no-op actor.

Run by the benchmark as ``python -m dramatiq bench.throughput_worker -p 1 -t 1 -Q mofsim bench-raw``
(one process, one thread, prefetch 1: what the launcher runs per GPU), and imported by the
benchmark itself so it can send to the raw actors. With ``THROUGHPUT_STOCK_BROKER`` set the
worker has only the raw actors, on Dramatiq's own ``RedisBroker``.

Two raw actors: ``noop`` (what the broker and Dramatiq alone cost a message) and
``single_point`` (a plain Dramatiq actor doing the mofsim task's computation — the same EMT
single point on the same file, the calculator kept per process and reset per message as the
platform's model cache and runner do — and nothing else: no database, no files, no pushes), so
the benchmark can tell the platform's cost from its payload's.
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


_parsed: dict = {}


def compute_single_point(path: str, file_format: str | None) -> float:
    """The near-no-op task's payload alone: the structure parsed once per process (the platform's
    structure cache), a copy per call, one EMT calculator per process reset before each call (the
    platform's ``_forget_results``), energy, forces and stress."""
    from ase.calculators.emt import EMT
    from ase.io import read

    if path not in _parsed:
        _parsed[path] = (read(path, format=file_format), EMT())
    structure, calc = _parsed[path]
    calc.reset()
    atoms = structure.copy()
    atoms.calc = calc
    energy = atoms.get_potential_energy()
    atoms.get_forces()
    atoms.get_stress(voigt=True)
    return float(energy)


@dramatiq.actor(queue_name=RAW_QUEUE, max_retries=0)
def single_point(path: str, file_format: str | None) -> None:
    """The mofsim task's computation in a plain actor: what Dramatiq plus the payload cost."""
    compute_single_point(path, file_format)
