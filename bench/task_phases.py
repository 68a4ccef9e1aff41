"""Where one near-no-op task's time goes inside a worker, by phase, and what the database charges (issue 12).

N near-no-op tasks (EMT single point, 4 atoms) are submitted in one batch and run one after the
other through the worker's actor function (``run_next_task.fn``) in this process — no broker,
so this is the platform's own cost per task — with a timer around each phase: the claim
(ranking included), the executor run, the final write, the on-commit pushes, the platform's
files. Then the database's two prices on the same connection: a round trip (``SELECT 1``) and
a commit (an autocommitted one-row INSERT into a scratch table: the WAL flush). The process's
CPU time per task is printed too (steadier than wall time on a shared machine). ``--profile N``
runs the loop under cProfile instead and prints the top N functions by own and by cumulative
time (``--profile-dump PATH`` also saves the stats for ``pstats``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mofsim_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/task_phases.py [--tasks 200] [--profile 60]

Its own database: it is migrated and filled with bench rows (``bench/throughput.py``'s setup).
"""

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--tasks", type=int, default=200)
parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile the loop instead, print the top N")
parser.add_argument("--profile-dump", metavar="PATH", help="with --profile: also save the stats (pstats) to PATH")
ARGS = parser.parse_args()
sys.argv = [sys.argv[0]]  # bench.throughput parses its own arguments at import
sys.path.insert(0, str(ROOT))

from bench import throughput  # noqa: E402 - sets the environment up and calls django.setup()

PHASES = {  # label: (module, function) timed where the actor and the runner look them up
    "claim (ranking included)": ("tasks_app.tasks", "claim_next_task"),
    "executor run (_compute)": ("tasks_app.runner", "_compute"),
    "  structure read": ("tasks_app.runner", "load_structure"),
    "  single point result + structure.extxyz": ("tasks_app.executors.single_point", "_result"),
    "platform files (_write_files)": ("tasks_app.runner", "_write_files"),
    "archiving (archive_files)": ("tasks_app.runner", "archive_files"),
    "final write (_record_final)": ("tasks_app.runner", "_record_final"),
    "status pushes (events.status_changed)": ("tasks_app.events", "status_changed"),
    "progress push (events.progress)": ("tasks_app.events", "progress"),
}


def timed(totals: dict, label: str, function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - started

    return wrapper


def instrument(totals: dict) -> None:
    import importlib

    for label, (module_name, name) in PHASES.items():
        module = importlib.import_module(module_name)
        setattr(module, name, timed(totals, label, getattr(module, name)))


def database_prices(n: int = 100) -> tuple[float, float]:
    """ms per round trip and per commit, on Django's connection (autocommit)."""
    from django.db import connection

    with connection.cursor() as cursor:
        started = time.perf_counter()
        for _ in range(n):
            cursor.execute("SELECT 1")
        round_trip = (time.perf_counter() - started) / n * 1000
        # A plain table: a temporary one is not WAL-logged, so its commits flush nothing.
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_commit (v integer)")
        try:
            started = time.perf_counter()
            for i in range(n):
                cursor.execute("INSERT INTO bench_commit (v) VALUES (%s)", [i])
            commit = (time.perf_counter() - started) / n * 1000
        finally:
            cursor.execute("DROP TABLE bench_commit")
    return round_trip, commit


def profile(n: int, run_next_task) -> None:
    """cProfile over the n tasks (CPU time per task too: the machine is shared, wall time is noisy)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    cpu, started = time.process_time(), time.perf_counter()
    profiler.enable()
    for _ in range(n):
        run_next_task.fn("bench")
    profiler.disable()
    cpu, wall = (time.process_time() - cpu) / n * 1000, (time.perf_counter() - started) / n * 1000
    print(f"{n} tasks; per task {wall:.2f} ms wall, {cpu:.2f} ms CPU of this process; load {os.getloadavg()[0]:.1f}")
    if ARGS.profile_dump:
        profiler.dump_stats(ARGS.profile_dump)
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(ARGS.profile)
    stats.sort_stats("cumulative").print_stats(ARGS.profile)


def main():
    import dramatiq

    from tasks_app.tasks import run_next_task

    user, structure, model = throughput.setup()
    dramatiq.get_broker().flush_all()
    n = ARGS.tasks
    throughput.submit_batch(user, structure, model, n + 1)
    dramatiq.get_broker().flush_all()  # run here, not by a worker
    run_next_task.fn("warm-up")  # first model load, first imports
    totals: dict[str, float] = defaultdict(float)
    if ARGS.profile:
        return profile(n, run_next_task)
    instrument(totals)
    cpu, started = time.process_time(), time.perf_counter()
    for _ in range(n):
        run_next_task.fn("bench")
    per_task = (time.perf_counter() - started) / n * 1000
    cpu = (time.process_time() - cpu) / n * 1000
    from django.conf import settings

    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(
        f"database {db}; {n} near-no-op tasks through run_next_task.fn in this process; load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'per task, all phases':<45}{per_task:>10.2f} ms")
    print(f"{'  CPU time of this process per task':<45}{cpu:>10.2f} ms")
    for label in PHASES:
        print(f"{label:<45}{totals[label] / n * 1000:>10.2f} ms")
    if db == "postgresql":
        round_trip, commit = database_prices()
        print(f"{'database round trip (SELECT 1)':<45}{round_trip:>10.2f} ms")
        print(f"{'database commit (autocommitted INSERT)':<45}{commit:>10.2f} ms")


if __name__ == "__main__":
    main()
