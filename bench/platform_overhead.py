"""What the platform costs on top of the science: ratios measured in one run.

1. Reporter overhead: the same optimization (EMT, 108-atom Cu, fixed number of steps) run
   (a) as a plain executor call with the in-memory Reporter and (b) as a platform task with the
   persisting, pushing TaskReporter (log lines, throttled progress rows, websocket pushes,
   artifacts). Target: (b)/(a) <= 1.10.
2. Queue overhead: N single-point tasks submitted through the real broker to one real Dramatiq
   worker vs N direct calculator calls. Prints tasks/s and the per-task platform overhead (ms).

Run:  WORKDIR=/tmp/mofsim-bench .venv/bin/python bench/platform_overhead.py [--tasks 40]
(add DATABASE_URL / REDIS_URL to measure on PostgreSQL + Redis).
"""

import argparse
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

from ase.build import bulk  # noqa: E402
from ase.calculators.emt import EMT  # noqa: E402
from ase.io import read, write  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402


def setup():
    call_command("migrate", verbosity=0)
    from models_app.models import MLModel
    from structures_app.services import store_path

    user, _ = get_user_model().objects.get_or_create(username="bench")
    atoms = bulk("Cu", "fcc", a=3.70, cubic=True).repeat((3, 3, 3))
    atoms.rattle(0.25, seed=7)
    path = Path(os.environ["WORKDIR"]) / "Cu108.cif"
    write(path, atoms)
    structure = store_path(path, owner=user, project="bench", name="Cu108")
    from models_app.devices import device_info

    device_info("cpu")  # a worker imports torch once at start; don't bill that to the first task
    return user, structure, MLModel.objects.get(name="emt")


def reporter_overhead(user, structure, model, steps=300):
    from mofsim_site.executors import Reporter
    from tasks_app.executors import optimization
    from tasks_app.inline import run_task_inline
    from tasks_app.params import validate_params
    from tasks_app.services import enqueue_task

    params = validate_params("optimization", {"fmax": 1e-6, "steps": steps, "cell_filter": None})
    atoms = read(structure.absolute_path)
    t0 = time.perf_counter()
    optimization.run(atoms, EMT(), params, Reporter(tempfile.mkdtemp()))
    direct = time.perf_counter() - t0

    task = enqueue_task(owner=user, kind="optimization", params=params, structure=structure, model=model)
    t0 = time.perf_counter()
    task = run_task_inline(task, device="cpu")
    platform = time.perf_counter() - t0
    assert task.status == "COMPLETED", task.error
    return direct, platform


def queue_overhead(user, structure, model, n):
    import dramatiq

    from tasks_app.models import Task
    from tasks_app.params import validate_params
    from tasks_app.services import enqueue_task

    atoms = read(structure.absolute_path)
    t0 = time.perf_counter()
    for _ in range(n):
        a = atoms.copy()
        a.calc = EMT()
        a.get_potential_energy(), a.get_forces(), a.get_stress()
    direct = time.perf_counter() - t0

    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(broker, worker_threads=1)
    worker.start()
    params = validate_params("single_point", {})
    t0 = time.perf_counter()
    ids = [enqueue_task(owner=user, kind="single_point", params=params, structure=structure, model=model).pk
           for _ in range(n)]  # fmt: skip
    while Task.objects.filter(pk__in=ids, status="COMPLETED").count() < n:
        time.sleep(0.05)
    platform = time.perf_counter() - t0
    worker.stop()
    return direct, platform


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    user, structure, model = setup()
    direct, platform = reporter_overhead(user, structure, model, args.steps)
    print(f"reporter  : {args.steps} LBFGS steps, 108 atoms, EMT")
    print(
        f"            direct {direct:.2f} s, as a platform task {platform:.2f} s -> ratio {platform / direct:.3f}"
        f" (target <= 1.10)"
    )
    direct, platform = queue_overhead(user, structure, model, args.tasks)
    print(f"queue     : {args.tasks} single-point tasks through the broker and one worker")
    print(
        f"            direct {direct:.2f} s, through the queue {platform:.2f} s -> ratio {platform / direct:.1f}; "
        f"{args.tasks / platform:.1f} tasks/s; overhead {(platform - direct) / args.tasks * 1000:.0f} ms/task"
    )
    print(
        f"database  : {django.conf.settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
        f"broker {django.conf.settings.BROKER_URL.split(':', 1)[0]}"
    )


if __name__ == "__main__":
    main()
