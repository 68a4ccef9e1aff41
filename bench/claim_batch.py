"""Across-task batching through the platform: tasks/s, one at a time vs grouped, one run.

N tasks of one kind (``--kind``: single points by default; bulk modulus and heat capacity with
``--params`` to keep them short; interaction energy with ``--params`` placing its guest)
(SevenNet-0, the smallest main-set MOFs, slightly rattled so each task has its own structure) are
queued and drained by the worker actor's own function (``run_next_task``: claim,
state transitions, leases, logs, artifacts, results — everything but the broker hop), first with
``WORKER_CLAIM_BATCH=1`` (each task claimed and computed alone through the ASE calculator, the
path before issue 13), then with ``WORKER_CLAIM_BATCH=<batch>`` (compatible tasks claimed together
and computed in one batched pass). Both modes alternate for ``--rounds``; the best of each is
compared. It also prints the largest difference of the task's headline number between the two
modes (parity): the energy, B0, Cv(300 K) or E_int. With ``WORKER_CLAIM_BATCH=1`` a bulk-modulus or
heat-capacity task still batches inside itself (its points / displaced cells), an interaction-energy
task its complex, host and guest; the ratio is what
sharing passes across tasks adds on top.

Run:  .venv/bin/python bench/claim_batch.py --quick      (16 tasks, batch 16, about 2 minutes on 2 cores)
      .venv/bin/python bench/claim_batch.py --kind bulk_modulus --tasks 4 --batch 4 --rounds 1 \
          --params '{"relax_steps": 5, "npoints": 5, "point_steps": 5}'
      BATCH_MAX_STRUCTURES=16 .venv/bin/python bench/claim_batch.py --kind interaction_energy --tasks 8 --batch 8 \
          --rounds 1 --params '{"guest": "CO2", "guest_position": [1, 1, 1]}'
(add DATABASE_URL / REDIS_URL to measure on PostgreSQL + Redis).
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("WORKDIR", tempfile.mkdtemp(prefix="mofsim-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mofsim_site.settings")
os.environ.setdefault("REDIS_NAMESPACE", f"mofsim-bench-{os.getpid()}")

import django  # noqa: E402

django.setup()

from ase.io import read, write  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

MAIN_SET = ROOT / "data/mofsimbench/mof_benchmark/experiments/structures/main_set"
SMALLEST = ["calf", "NUVCUD_full", "SAS_primitive", "AGEDIC_full", "Zn-MOF-74"]


def setup(n: int, model_name: str):
    call_command("migrate", verbosity=0)
    from models_app.models import MLModel
    from structures_app.services import store_path

    user, _ = get_user_model().objects.get_or_create(username="bench")
    stored = []
    for i in range(n):
        atoms = read(MAIN_SET / f"{SMALLEST[i % len(SMALLEST)]}.cif")
        atoms.rattle(0.01, seed=i)
        path = Path(os.environ["WORKDIR"]) / f"s{i}.cif"
        write(path, atoms)
        stored.append(store_path(path, owner=user, project="bench", name=f"s{i}"))
    return user, stored, MLModel.objects.get(name=model_name)


HEADLINE = {"single_point": "energy_ev", "optimization": "final_energy_ev", "bulk_modulus": "b0_gpa",
            "heat_capacity": "cv300_j_per_g_k", "interaction_energy": "interaction_energy_ev"}  # fmt: skip


def drain(user, stored, model, batch: int, kind: str, overrides: dict):
    """Queue one task per structure and run the actor until all are done; (seconds, headline numbers, batch sizes)."""
    from tasks_app.models import Task
    from tasks_app.params import validate_params
    from tasks_app.services import enqueue_task
    from tasks_app.tasks import run_next_task

    settings.WORKER_CLAIM_BATCH = batch
    params = validate_params(kind, overrides, "quick")
    tasks = [enqueue_task(owner=user, kind=kind, params=params, structure=s, model=model) for s in stored]
    started = time.perf_counter()
    while Task.objects.filter(pk__in=[t.pk for t in tasks], status="QUEUED").exists():
        run_next_task.fn("bench")
    seconds = time.perf_counter() - started
    done = {t.pk: t for t in Task.objects.filter(pk__in=[t.pk for t in tasks])}
    bad = [t for t in done.values() if t.status != "COMPLETED"]
    assert not bad, [(t.status, t.error) for t in bad]
    sizes = {t.result["provenance"].get("batch_size", 1) for t in done.values()}
    return seconds, [done[t.pk].result[HEADLINE[kind]] for t in tasks], sizes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="16 tasks, batch 16, 1 round")
    parser.add_argument("--tasks", type=int, default=64)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", default="sevennet-0")
    parser.add_argument("--kind", default="single_point", choices=sorted(HEADLINE))
    parser.add_argument("--params", default="{}", help="JSON parameters over the kind's quick preset")
    args = parser.parse_args()
    if args.quick:
        args.tasks, args.batch, args.rounds = 16, 16, 1
    user, stored, model = setup(args.tasks, args.model)
    from models_app.devices import pick_device

    overrides = json.loads(args.params)
    label = args.kind.replace("_", "-")
    print(f"{args.tasks} {label} tasks {overrides or ''}, {args.model} on {pick_device()}, "
          f"WORKER_CLAIM_BATCH 1 vs {args.batch}")  # fmt: skip
    for batch in (1, args.batch):  # warm-up: model load and first calls are billed to neither mode
        drain(user, stored[:2], model, batch, args.kind, overrides)
    best = {1: float("inf"), args.batch: float("inf")}
    energies = {}
    for r in range(args.rounds):
        for batch in (1, args.batch):
            seconds, energies[batch], sizes = drain(user, stored, model, batch, args.kind, overrides)
            best[batch] = min(best[batch], seconds)
            print(f"round {r + 1}, WORKER_CLAIM_BATCH={batch:3d}: {seconds:7.2f} s, "
                  f"{args.tasks / seconds:6.2f} tasks/s (batch sizes seen: {sorted(sizes)})")  # fmt: skip
    delta = max(abs(a - b) for a, b in zip(energies[1], energies[args.batch], strict=True)
                if a is not None and b is not None)  # fmt: skip
    print(f"max |Δ{HEADLINE[args.kind]}| grouped vs one at a time: {delta:.2e}")
    print(f"grouped/one-at-a-time ({label} tasks, batch {args.batch}): {best[1] / best[args.batch]:.2f}x")


if __name__ == "__main__":
    main()
