"""Per-task overhead: mofsim vs raw Dramatiq on the same broker, in one run (issue 12).

1. SQL statements per task: one submit (``enqueue_task``), one task of a batch submit, and one
   near-no-op run (EMT single point, 4 atoms) from claim to COMPLETED, on-commit hooks included.
2. Submission rate: ``POST /api/v1/tasks/batch`` (Django's full request stack, no HTTP socket)
   and ``create_benchmark_run`` (what ``enqueue_benchmark`` does), tasks/s.
3. Throughput through ONE real worker process (``python -m dramatiq``, 1 process, 1 thread,
   prefetch 1, one queue, as the launcher runs one per GPU): a raw Dramatiq no-op actor, first
   through a plain Dramatiq worker (Dramatiq's own Redis consumer) and then through a mofsim
   worker on the raw queue (whose consumer fetches right after each ack: ``mofsim_site.broker``,
   so its raw rate is far above plain Dramatiq's), then N mofsim near-no-op tasks submitted in
   batches through a mofsim worker on the ``mofsim`` queue, submit → all COMPLETED; tasks/s side
   by side and the ratios (target ≥ 0.6 of plain Dramatiq, and ≥ 50 mofsim tasks/s).
4. The payload apart from the platform: a plain Dramatiq actor doing the task's computation alone
   (the same EMT single point on the same file, ``bench.throughput_worker.single_point``)
   through the plain worker (tasks/s, and the mofsim rate's ratio to it: the platform's share
   with the payload on both sides) and through the mofsim worker (its CPU per message), and the
   payload's CPU alone in this process. The worker's CPU per mofsim task minus its CPU per such
   message is what the platform costs a task; the stock no-op's time per message over (payload
   + one mofsim-worker message) bounds the no-op ratio a platform of zero cost would reach.

Run on PostgreSQL + Redis with a database of its own (it is migrated, and filled with bench rows):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mofsim_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/throughput.py [--tasks 200] [--raw 500] [--batch 500]

(``--database-url`` / ``--redis-url`` instead of the variables.) The script also runs against an
older checkout without the batch endpoint or the bulk service (it then submits one by one and
says so), which is how the before/after numbers in docs/performance.md were taken.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=200, help="mofsim tasks through the worker")
    parser.add_argument("--raw", type=int, default=500, help="raw Dramatiq no-op messages through the worker")
    parser.add_argument("--batch", type=int, default=500, help="tasks per batch-submit measurement")
    parser.add_argument("--stock-prefetch", type=int, default=1, metavar="N",
                        help="the stock worker's prefetch (default 1, as the mofsim worker runs; 0: Dramatiq's own "
                             "default, twice the threads)")  # fmt: skip
    parser.add_argument("--database-url", help="default: $DATABASE_URL")
    parser.add_argument("--redis-url", help="default: $REDIS_URL")
    return parser.parse_args()


ARGS = parse_args()
if ARGS.database_url:
    os.environ["DATABASE_URL"] = ARGS.database_url
if ARGS.redis_url:
    os.environ["REDIS_URL"] = ARGS.redis_url
os.environ.setdefault("WORKDIR", tempfile.mkdtemp(prefix="mofsim-throughput-"))
os.environ.setdefault("REDIS_NAMESPACE", f"mofsim-throughput-{os.getpid()}")
os.environ.setdefault("SECRET_KEY", "throughput-bench")
os.environ.setdefault("TASK_BATCH_MAX", str(max(ARGS.batch, 1000)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mofsim_site.settings")
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from ase.build import bulk  # noqa: E402
from ase.io import write  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from bench import throughput_worker  # noqa: E402 - the raw no-op actor
from models_app.models import MLModel  # noqa: E402
from tasks_app import services  # noqa: E402
from tasks_app.inline import run_task_inline  # noqa: E402
from tasks_app.models import Task  # noqa: E402
from tasks_app.params import validate_params  # noqa: E402
from tasks_app.tasks import QUEUE as GPU_QUEUE  # noqa: E402 - the queue a GPU worker consumes


def setup():
    call_command("migrate", verbosity=0)
    from models_app.builtin import ensure_builtin_models
    from structures_app.services import store_path

    ensure_builtin_models(MLModel)
    user, _ = get_user_model().objects.get_or_create(username="bench-throughput", defaults={"is_staff": True})
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    path = Path(os.environ["WORKDIR"]) / "Cu4.cif"
    write(path, bulk("Cu", "fcc", a=3.61, cubic=True))
    structure = store_path(path, owner=user, project="bench", name="Cu4")
    Task.objects.exclude(status__in=["COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"]).delete()  # an aborted run's
    return user, structure, MLModel.objects.get(name="emt")


def submit_one(user, structure, model):
    params = validate_params("single_point", {}, "quick")
    return services.enqueue_task(owner=user, kind="single_point", params=params, structure=structure, model=model)


def counted(ctx) -> int:
    """Statements, not transaction control (BEGIN/COMMIT are logged by some backends, not others)."""
    return sum(1 for q in ctx.captured_queries if q["sql"].split(" ", 1)[0].upper() not in ("BEGIN", "COMMIT"))


def sql_counts(user, structure, model) -> dict:
    """Statements per submit, per task of a 100-task batch, per inline run, and per run through the
    worker's actor function (claim query included), in this process (no worker running)."""
    from tasks_app.tasks import run_next_task

    with CaptureQueriesContext(connection) as submit:
        task = submit_one(user, structure, model)
    with CaptureQueriesContext(connection) as run:
        task = run_task_inline(task, device="cpu")
    assert task.status == "COMPLETED", task.error
    task = submit_one(user, structure, model)
    with CaptureQueriesContext(connection) as actor:
        run_next_task.fn(str(task.pk))
    assert Task.objects.get(pk=task.pk).status == "COMPLETED"
    client = api_client(user)
    items = [item(structure) for _ in range(100)]
    with CaptureQueriesContext(connection) as batch:
        response = client.post("/api/v1/tasks/batch", {"tasks": items}, format="json")
    per_batch_task = counted(batch) / 100 if response.status_code == 201 else None
    return {"submit": counted(submit), "run": counted(run), "actor": counted(actor), "batch_task": per_batch_task}


def api_client(user) -> APIClient:
    client = APIClient(SERVER_NAME="localhost")  # an allowed host
    client.force_authenticate(user)
    return client


def item(structure) -> dict:
    return {"kind": "single_point", "structure": structure.pk, "model": "emt", "preset": "quick"}


def submit_batch(user, structure, model, n) -> tuple[list, str]:
    """Submit ``n`` tasks the fastest way this checkout offers; returns ids and the way used."""
    client = api_client(user)
    ids: list = []
    chunk = settings.TASK_BATCH_MAX if hasattr(settings, "TASK_BATCH_MAX") else n
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        response = client.post("/api/v1/tasks/batch", {"tasks": [item(structure)] * size}, format="json")
        if response.status_code != 201:
            break
        ids += [t["id"] for t in response.json()["tasks"]]
    else:
        return ids, "POST /api/v1/tasks/batch"
    return [submit_one(user, structure, model).pk for _ in range(n)], "enqueue_task one by one (no batch endpoint)"


def submission_rates(user, structure, model, n) -> dict:
    """Tasks/s through the batch endpoint and through create_benchmark_run (no worker consuming)."""
    from tasks_app.benchmarks.services import create_benchmark_run

    t0 = time.perf_counter()
    ids, how = submit_batch(user, structure, model, n)
    batch_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run = create_benchmark_run(owner=user, kind="single_point", model=model, structures=[structure] * n,
                               preset="quick")  # fmt: skip
    bench_s = time.perf_counter() - t0
    assert run.tasks.count() == n and len(ids) == n
    return {"batch": n / batch_s, "batch_how": how, "benchmark": n / bench_s}


def start_worker(queue: str, stock: bool = False) -> subprocess.Popen:
    """A worker for ``queue`` alone — the mofsim worker, or with ``stock`` a plain Dramatiq one.

    One queue per worker, as the launcher runs a GPU's worker on ``mofsim`` alone: each queue
    adds two consumer threads (the queue and its delay queue) polling Redis and taking the GIL."""
    env = {**os.environ, "dramatiq_queue_prefetch": "1", "PYTHONPATH": str(ROOT)}
    if stock and ARGS.stock_prefetch != 1:
        env.pop("dramatiq_queue_prefetch")
        if ARGS.stock_prefetch > 0:
            env["dramatiq_queue_prefetch"] = str(ARGS.stock_prefetch)
    if stock:
        env["THROUGHPUT_STOCK_BROKER"] = "1"
    cmd = [sys.executable, "-m", "dramatiq", "bench.throughput_worker", "--processes", "1", "--threads", "1",
           "--queues", queue]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stock_raw_rates(broker, n, payload) -> tuple[float, float]:
    """Through a plain Dramatiq worker (Dramatiq's own Redis consumer), same Redis: the raw no-op's
    rate and the same-payload actor's (``payload``: its arguments)."""
    proc = start_worker(throughput_worker.RAW_QUEUE, stock=True)
    try:
        wait_for_raw_worker(broker, proc, payload)
        return raw_rate(broker, n), raw_rate(broker, n, payload)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def payload_arguments(structure) -> tuple[str, str | None]:
    """The file the mofsim task reads and its format: the same-payload actor reads the same."""
    path, file_format = structure.atoms_file()
    return str(path), file_format


def payload_cpu_ms(payload, n) -> float:
    """CPU ms of the task's computation alone, in this process (warmed up first)."""
    throughput_worker.compute_single_point(*payload)
    started = time.process_time()
    for _ in range(n):
        throughput_worker.compute_single_point(*payload)
    return (time.process_time() - started) / n * 1000


def pending(broker, queue: str) -> int:
    """Messages not yet acknowledged on ``queue`` (Dramatiq's Redis layout: ``<ns>:<queue>.msgs``)."""
    return broker.client.hlen(f"{broker.namespace}:{queue}.msgs")


def raw_rate(broker, n, payload=None) -> float:
    """Messages/s for ``n`` no-op messages, or with ``payload`` ``n`` same-payload ones."""
    t0 = time.perf_counter()
    for i in range(n):
        if payload is None:
            throughput_worker.noop.send(i)
        else:
            throughput_worker.single_point.send(*payload)
    while pending(broker, throughput_worker.RAW_QUEUE):
        time.sleep(0.01)
    return n / (time.perf_counter() - t0)


def mofsim_rate(user, structure, model, n) -> tuple[float, str, dict]:
    t0 = time.perf_counter()
    ids, how = submit_batch(user, structure, model, n)
    done = Task.objects.filter(pk__in=ids, status__in=["COMPLETED", "FAILED", "TIMEOUT", "CANCELLED"])
    while done.count() < n:
        time.sleep(0.05)
    elapsed = time.perf_counter() - t0
    failed = Task.objects.filter(pk__in=ids).exclude(status="COMPLETED").count()
    assert not failed, f"{failed} task(s) did not complete"
    return n / elapsed, how, where_time_goes(ids)


def where_time_goes(ids) -> dict:
    """Medians (ms) from the tasks' own timestamps: claim → RUNNING, RUNNING → final state (the
    run, its files and its final transaction), and one task's final state → the next claim (its
    on-commit hooks, the ack, the broker poll, the claim's ranking)."""
    from statistics import median

    rows = list(Task.objects.filter(pk__in=ids).order_by("assigned_at")
                .values_list("assigned_at", "started_at", "finished_at"))  # fmt: skip
    ms = lambda a, b: (b - a).total_seconds() * 1000  # noqa: E731
    return {
        "claim_to_running": median(ms(a, s) for a, s, _ in rows),
        "running_to_final": median(ms(s, f) for _, s, f in rows),
        "final_to_next_claim": median(ms(rows[i][2], rows[i + 1][0]) for i in range(len(rows) - 1)),
    }


def tree_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) of process ``pid`` and its descendants so far — the Dramatiq
    worker and the process it forks — from /proc (None where there is none). On a shared machine
    this is steadier than wall time: it is what one task costs the worker, not what it waited."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        total = (int(fields[11]) + int(fields[12])) / tick
        children: list[int] = []
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                children += [int(c) for c in fh.read().split()]
    except (OSError, ValueError, IndexError):
        return None
    for child in children:
        total += tree_cpu_s(child) or 0.0
    return total


def cpu_per_item_ms(proc, run) -> tuple:
    """``run()``'s result and the worker tree's CPU ms per item (``run`` returns (rate, n, ...))."""
    before = tree_cpu_s(proc.pid)
    result = run()
    after = tree_cpu_s(proc.pid)
    cpu = (after - before) * 1000 if before is not None and after is not None else None
    return result, cpu


def wait_until(proc, done, timeout=300.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start (exit {proc.poll()})")
        time.sleep(0.1)


def wait_for_raw_worker(broker, proc, payload) -> None:
    """One no-op and one same-payload message through a new raw-queue worker (imports, ASE, the file)."""
    throughput_worker.noop.send(-1)
    throughput_worker.single_point.send(*payload)
    wait_until(proc, lambda: not pending(broker, throughput_worker.RAW_QUEUE))


def wait_for_mofsim_worker(user, structure, model, proc) -> None:
    """One mofsim task through a new mofsim worker (imports, first model load)."""
    task = submit_one(user, structure, model)
    wait_until(proc, lambda: Task.objects.get(pk=task.pk).status == "COMPLETED")


def through(proc, measure):
    """``measure()`` with the worker ``proc`` running; stopped afterwards."""
    try:
        return measure()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    import dramatiq

    user, structure, model = setup()
    broker = dramatiq.get_broker()
    broker.flush_all()
    counts = sql_counts(user, structure, model)
    rates = submission_rates(user, structure, model, ARGS.batch)
    Task.objects.filter(owner=user, status="QUEUED").delete()  # not for the worker to run
    broker.flush_all()
    payload = payload_arguments(structure)
    stock, stock_payload = stock_raw_rates(broker, ARGS.raw, payload)
    payload_ms = payload_cpu_ms(payload, ARGS.raw)
    try:
        raw_worker = start_worker(throughput_worker.RAW_QUEUE)

        def raw_phases():
            wait_for_raw_worker(broker, raw_worker, payload)
            no_op = cpu_per_item_ms(raw_worker, lambda: raw_rate(broker, ARGS.raw))
            return no_op, cpu_per_item_ms(raw_worker, lambda: raw_rate(broker, ARGS.raw, payload))[1]

        (raw, raw_cpu), payload_cpu = through(raw_worker, raw_phases)
        worker = start_worker(GPU_QUEUE)

        def mofsim_phase():
            wait_for_mofsim_worker(user, structure, model, worker)
            return cpu_per_item_ms(worker, lambda: mofsim_rate(user, structure, model, ARGS.tasks))

        (mofsim, how, medians), mofsim_cpu = through(worker, mofsim_phase)
    finally:
        broker.flush_all()
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    poll = f"idle poll <= {os.environ.get('dramatiq_worker_timeout', 1000)} ms"  # noqa: SIM112 - Dramatiq's name
    broker_name = settings.BROKER_URL.split(":", 1)[0]
    print(f"database {db}, broker {broker_name}; one worker per queue (1 process, 1 thread, {poll})")
    print(f"{'what':<50}{'value':>12}  target")
    print(f"{'SQL statements per submit (enqueue_task)':<50}{counts['submit']:>12}  <= 5")
    batch_task = f"{counts['batch_task']:.2f}" if counts["batch_task"] is not None else "n/a"
    print(f"{'SQL statements per task, batch of 100':<50}{batch_task:>12}")
    print(f"{'SQL statements per run (inline, claim→COMPLETED)':<50}{counts['run']:>12}  <= 15")
    print(f"{'  the same through the actor (ranking incl.)':<50}{counts['actor']:>12}")
    print(f"{'batch submit, tasks/s':<50}{rates['batch']:>12.0f}  >= 500  ({rates['batch_how']})")
    print(f"{'create_benchmark_run, tasks/s':<50}{rates['benchmark']:>12.0f}  >= 500")
    prefetch = {0: "Dramatiq's default", 1: "1"}.get(ARGS.stock_prefetch, str(ARGS.stock_prefetch))
    print(f"{'stock worker prefetch':<50}{prefetch:>12}")
    print(f"{'raw Dramatiq no-op (stock Dramatiq worker), tasks/s':<50}{stock:>12.1f}  ({ARGS.raw} messages)")
    print(f"{'raw no-op through the mofsim worker, tasks/s':<50}{raw:>12.1f}  (its broker and consumer)")
    print(f"{'mofsim near-no-op end to end, tasks/s':<50}{mofsim:>12.1f}  >= 50  ({ARGS.tasks} tasks; {how})")
    print(f"{'ratio mofsim / raw (stock Dramatiq)':<50}{mofsim / stock:>12.3f}  >= 0.6")
    print(f"{'ratio mofsim / raw (mofsim worker)':<50}{mofsim / raw:>12.3f}")
    print(f"{'same-payload raw actor (stock worker), tasks/s':<50}{stock_payload:>12.1f}  (EMT single point alone)")
    print(f"{'ratio mofsim / same-payload raw actor (stock)':<50}{mofsim / stock_payload:>12.3f}")
    print(f"{'payload CPU ms (EMT single point, this process)':<50}{payload_ms:>12.2f}")
    if raw_cpu is not None and mofsim_cpu is not None and payload_cpu is not None:
        per_raw, per_payload, per_task = raw_cpu / ARGS.raw, payload_cpu / ARGS.raw, mofsim_cpu / ARGS.tasks
        print(f"{'worker CPU ms per raw no-op (mofsim worker)':<50}{per_raw:>12.2f}")
        print(f"{'worker CPU ms per same-payload message':<50}{per_payload:>12.2f}")
        print(f"{'worker CPU ms per mofsim task':<50}{per_task:>12.2f}")
        print(f"{'  of which the platform (task - same payload)':<50}{per_task - per_payload:>12.2f}")
        bound = (1000 / stock) / per_payload  # stock ms a message / CPU ms of a same-payload message
        print(f"{'no-op ratio at zero platform cost (upper bound)':<50}{bound:>12.3f}")
    print(f"{'median ms: claim → RUNNING':<50}{medians['claim_to_running']:>12.1f}")
    print(f"{'median ms: RUNNING → COMPLETED':<50}{medians['running_to_final']:>12.1f}")
    print(f"{'median ms: COMPLETED → next claim':<50}{medians['final_to_next_claim']:>12.1f}")


if __name__ == "__main__":
    main()
