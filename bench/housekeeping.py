"""Housekeeping cost against the queue backlog: one pass with K QUEUED tasks, before and after.

For each K (default 1k, 20k, 100k) K QUEUED tasks are inserted in bulk (wake-ups last sent two
hours ago), and two broker states are measured:

- ``lost 10``: the broker holds K − 10 wake-ups (ten were lost): the pass must send 10;
- ``lost all``: the broker holds none (a Redis restart without persistence).

"before" is the reconciler step of the reference commit (``--before-ref``, default: main before
issue 12), loaded from git and run on the schema without the new partial index; "after: step" is
this tree's reconciler step with the pass budget, "after: pass" one whole ``housekeeping_pass()``
(fail-over, reaping, re-send, retention). Each prints seconds and wake-ups sent, from one run.

Run (PostgreSQL + Redis; the database is emptied of tasks):
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/mofsim_hk REDIS_URL=redis://127.0.0.1:6379/5 \\
    SECRET_KEY=x .venv/bin/python bench/housekeeping.py [--sizes 1000,20000,100000]
"""

import argparse
import importlib.util
import os
import subprocess
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

import dramatiq  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

BEFORE_REF = "c2d8a8f"  # main before issue 12's housekeeping work


def load_reconciler(ref: str):
    """The reconciler module as it was at ``ref`` (it imports only what this tree still has)."""
    source = subprocess.run(["git", "show", f"{ref}:tasks_app/reconciler.py"], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "reconciler_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("reconciler_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fill(owner_id: int, k: int) -> None:
    """Empty the task table and insert ``k`` QUEUED tasks in one statement."""
    with connection.cursor() as cur:
        cur.execute("TRUNCATE tasks_app_task CASCADE")
        cur.execute(
            """INSERT INTO tasks_app_task (id, owner_id, kind, status, priority, params, error, traceback,
                   progress_step, progress, attempts, created_at, updated_at, queued_at, wakeup_sent_at)
               SELECT gen_random_uuid(), %s, 'single_point', 'QUEUED', 0, '{}', '', '', 0, '{}', 0,
                      now() - interval '2 hours', now() - interval '2 hours',
                      now() - interval '2 hours' + g * interval '1 microsecond', now() - interval '2 hours'
               FROM generate_series(1, %s) g""",
            [owner_id, k],
        )
        cur.execute("ANALYZE tasks_app_task")


def reset_stamps() -> None:
    with connection.cursor() as cur:
        cur.execute("UPDATE tasks_app_task SET wakeup_sent_at = now() - interval '2 hours'")


def hold(broker, n: int) -> None:
    """Put ``n`` real wake-ups in the broker with its own enqueue primitive (no middleware rows)."""
    from tasks_app.models import Task
    from tasks_app.tasks import run_next_task

    broker.flush_all()
    for pk in Task.objects.order_by().values_list("pk", flat=True)[:n].iterator(chunk_size=5000):
        message = run_next_task.message(str(pk))
        broker.do_enqueue(message.queue_name, str(pk), message.encode())


def wakeup_index(present: bool) -> None:
    from tasks_app.models import Task

    index = next(i for i in Task._meta.indexes if i.name == "task_wakeup_idx")
    with connection.schema_editor() as editor:
        (editor.add_index if present else editor.remove_index)(Task, index)
    with connection.cursor() as cur:
        cur.execute("ANALYZE tasks_app_task")


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,20000,100000")
    parser.add_argument("--before-ref", default=BEFORE_REF)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("run it on PostgreSQL (DATABASE_URL=postgres://…)")
    call_command("migrate", verbosity=0)
    from django.conf import settings

    from nodes_app.housekeeping import housekeeping_pass
    from tasks_app.reconciler import requeue_lost_messages

    before = load_reconciler(args.before_ref)
    broker = dramatiq.get_broker()
    owner, _ = get_user_model().objects.get_or_create(username="bench-housekeeping")
    budget = settings.HOUSEKEEPING_PASS_BUDGET_S
    print(f"{'':>19} | {'before: step':>16} | {'after: step':>15} | {'after: pass':>15}")
    print(
        f"{'K queued':>9} {'broker':>9} | {'s':>9} {'sent':>6} | {'s':>8} {'sent':>6} | {'s':>8} {'sent':>6}",
        flush=True,
    )
    for k in [int(x) for x in args.sizes.split(",")]:
        fill(owner.pk, k)
        for label, held in (("lost 10", k - 10), ("lost all", 0)):
            hold(broker, held)
            wakeup_index(present=False)
            t_before, n_before = timed(before.requeue_lost_messages)
            hold(broker, held)
            reset_stamps()
            wakeup_index(present=True)
            t_step, n_step = timed(lambda: requeue_lost_messages(deadline=time.monotonic() + budget))
            hold(broker, held)
            reset_stamps()
            t_pass, summary = timed(housekeeping_pass)
            print(f"{k:>9} {label:>9} | {t_before:>9.3f} {n_before:>6} | {t_step:>8.3f} {n_step:>6} | "
                  f"{t_pass:>8.3f} {summary['wakeups_resent']:>6}", flush=True)  # fmt: skip
            reset_stamps()
    broker.flush_all()


if __name__ == "__main__":
    main()
