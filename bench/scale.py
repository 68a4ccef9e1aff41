"""Claim, fair share, admin and API costs as the task table grows (issue 12): 1k → 100k → 1M rows.

Creates its own PostgreSQL database (dropped at the end unless --keep), migrates it, and fills
``tasks_app_task`` by COPY with a realistic mix over many users and structures: ~10 % QUEUED,
~100 tasks held by workers (skewed over a few owners, so fair share has work to do), the rest
finished. At each size it prints, from one run on this machine:

- claim latency p50/p95 (ms), SQL statements per claim, and CPU per claim of the claimer process
  and of its PostgreSQL backend (/proc: what a starved CPU does not stretch), one claimer;
- claims/s from 8 concurrent claimer processes (with how many claims in how long: they stop when
  the queue runs dry, which at 1,000 rows, ~100 QUEUED, takes a fraction of a second, so only
  the larger sizes measure a sustained rate), the CPU per claim of the claimers, of their
  backends and of the whole machine meanwhile, and whether any attempt was claimed twice; each
  claimer hands its claims back every few (``_claimer``), so the held count stays near 100 GPUs';
- the ranking queries (head of queue + fair-share count), ms;
- admin task changelist and API task list (staff and one user): SQL ms and statement count.

"ms" is wall time seen by Django; "[db]" is PostgreSQL's own execution time of the same SELECTs
(EXPLAIN ANALYZE), which a loaded machine inflates far less. For the claim, "[db]" is the
execution time of every statement of one claim (replayed under EXPLAIN ANALYZE in a rolled-back
savepoint just before it runs for real; planning left out, the claim is prepared) and "(pages)" the buffer pages those
statements touched: the work itself, which no load inflates. ``--save``/``--compare`` print the
claim's numbers of two runs (e.g. main and a branch, in one session) side by side with ratios.

Tasks claimed by the benchmark go back to QUEUED between measurements (bench bookkeeping with
a raw UPDATE, not the state machine), so the mix and the held count stay as filled.

Run (PostgreSQL + Redis; the database named in the URL is created and dropped):
  REDIS_URL=redis://127.0.0.1:6379/4 SECRET_KEY=x .venv/bin/python bench/scale.py --quick
  ... bench/scale.py postgres://postgres@127.0.0.1:5432/mofsim_scale --sizes 1000,100000,1000000
"""

import argparse
import json
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = None if "WORKDIR" in os.environ else tempfile.mkdtemp(prefix="mofsim-scale-")
os.environ.setdefault("WORKDIR", SCRATCH or "")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mofsim_site.settings")
os.environ.setdefault("REDIS_NAMESPACE", f"mofsim-scale-{os.getpid()}")
os.environ.setdefault("SECRET_KEY", "bench-scale-not-secret")

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/mofsim_scale"
USERS = 300
STRUCTURES = 2000
HELD = 100  # tasks held by workers at any time: 100 GPUs
CLAIMERS = 8
RELEASE_EVERY = max(1, HELD // CLAIMERS)  # claims a concurrent claimer holds before handing them back
BENCH_NODE = "scale-bench"
COLUMNS = [
    "id", "owner_id", "kind", "status", "priority", "structure_id", "model_id", "params", "error", "traceback",
    "progress_step", "progress", "attempts", "created_at", "updated_at", "queued_at", "assigned_at", "started_at",
    "finished_at", "lease_token", "lease_expires_at", "notes", "tags",
]  # fmt: skip


# --------------------------------------------------------------------------- database lifecycle
def admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def recreate_database(url: str, drop_only: bool = False) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


# --------------------------------------------------------------------------- fill
def prepare():
    """Users, structures, a superuser and the bench worker node; returns ids the fill uses."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from models_app.models import MLModel
    from nodes_app.models import WorkerNode
    from structures_app.models import Structure

    call_command("migrate", verbosity=0)
    User = get_user_model()
    User.objects.bulk_create([User(username=f"user{i:04d}") for i in range(USERS)])
    User.objects.create_superuser("scale-admin", "admin@example.org", "x")
    owners = list(User.objects.filter(username__startswith="user").values_list("id", flat=True))
    Structure.objects.bulk_create(
        [
            Structure(
                name=f"mof-{i}",
                owner_id=owners[i % len(owners)],
                path=f"raw/bench/mof-{i}.cif",
                file_format="cif",
                sha256=f"{i:064x}",
                formula="Cu4",
                n_atoms=4,
            )  # fmt: skip
            for i in range(STRUCTURES)
        ]
    )
    WorkerNode.objects.create(name=BENCH_NODE)
    return {
        "owners": owners,
        "structures": list(Structure.objects.values_list("id", flat=True)),
        "models": list(MLModel.objects.values_list("id", flat=True)),
    }


def _row(i: int, rnd: random.Random, ids, kinds, now):
    owners = ids["owners"]
    created = now - timedelta(days=365) + timedelta(seconds=i * 3)
    roll = rnd.random()
    if i < HELD:  # held by workers, concentrated on the first ten owners
        status, owner = "RUNNING", owners[i % 10]
    elif roll < 0.10:
        status, owner = "QUEUED", rnd.choice(owners)
    else:
        status = "COMPLETED" if roll < 0.95 else ("FAILED" if roll < 0.98 else "CANCELLED")
        owner = rnd.choice(owners)
    p = rnd.random()
    priority = 3 if p < 0.01 else 2 if p < 0.06 else 0 if p < 0.10 else 1
    terminal = status not in ("QUEUED", "RUNNING")
    return (
        uuid.UUID(int=rnd.getrandbits(128), version=4), owner, rnd.choice(kinds), status, priority,
        rnd.choice(ids["structures"]), rnd.choice(ids["models"]), "{}", "", "", 0, "{}",
        0 if status == "QUEUED" else 1, created, created, created + timedelta(seconds=1),
        None if status == "QUEUED" else created + timedelta(seconds=2),
        None if status == "QUEUED" else created + timedelta(seconds=2),
        created + timedelta(seconds=5) if terminal else None,
        uuid.uuid4() if status == "RUNNING" else None,
        now + timedelta(days=30) if status == "RUNNING" else None, "", "[]",
    )  # fmt: skip


def fill(start: int, stop: int, ids) -> float:
    """COPY rows start..stop-1 into the task table; returns seconds."""
    from django.db import connection

    from mofsim_site import executors

    kinds = sorted(executors.REGISTRY)
    rnd = random.Random(start)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        sql = f"COPY tasks_app_task ({', '.join(COLUMNS)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for i in range(start, stop):
                copy.write_row(_row(i, rnd, ids, kinds, now))
        cursor.execute("ANALYZE tasks_app_task")
    return time.perf_counter() - t0


def requeue_bench_claims() -> None:
    """Bench bookkeeping: what the benchmark claimed goes back to the queue (a raw UPDATE, not
    the state machine), so the status mix and the ~HELD held rows stay as filled. ``attempts``
    is kept, so the next claim of a row opens a new attempt number."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(REQUEUE)


REQUEUE = (
    "UPDATE tasks_app_task SET status = 'QUEUED', node_id = NULL, assigned_at = NULL, lease_token = NULL, "
    "lease_expires_at = NULL WHERE status = 'ASSIGNED'"
)


# --------------------------------------------------------------------------- measuring SQL
@contextmanager
def sql_timer():
    """Every statement run inside, with its wall time (a wrapper, so sub-ms times are kept)."""
    from django.db import connection

    log: list[tuple[str, float, object]] = []

    def wrapper(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            log.append((sql, (time.perf_counter() - t0) * 1000, params))

    with connection.execute_wrapper(wrapper):
        yield log


def server_ms(log) -> float:
    """PostgreSQL's own execution time of the SELECTs in ``log`` (EXPLAIN ANALYZE re-runs them).

    On a loaded machine the wall time of a statement is mostly waiting for a CPU; this is the
    work the database did, which is what grows (or not) with the table."""
    from django.db import connection

    total = 0.0
    with connection.cursor() as cursor:
        for sql, _, params in log:
            if not sql.lstrip().upper().startswith("SELECT") or " FOR UPDATE" in sql.upper():
                continue
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            total += (plan if isinstance(plan, list) else json.loads(plan))[0]["Execution Time"]
    return total


REPLAYED = ("SELECT", "WITH", "UPDATE", "INSERT", "DELETE", "EXECUTE")  # what EXPLAIN ANALYZE can run


@contextmanager
def server_timer():
    """PostgreSQL's own execution time (ms) and buffer pages touched (planning + execution,
    shared hits + reads) of every statement run inside, as ``(ms, pages)``: each one is first run
    under EXPLAIN (ANALYZE, BUFFERS) in a savepoint that is rolled back, then for real. Planning
    time is left out: the platform sends the claim prepared (``tasks_app.prepared``), the replay
    cannot be (the savepoint's rollback makes the driver deallocate its prepared statements).

    For a claim, whose writes cannot be replayed after the fact; the caller runs it in a
    transaction (savepoints need one). The server's time is still wall time inside the backend
    (a starved CPU stretches it); the pages are the work itself, whatever the load."""
    from django.db import connection

    times: list[tuple[float, int]] = []

    def wrapper(execute, sql, params, many, context):
        verb = sql.lstrip().split(None, 1)[0].upper()
        if connection.in_atomic_block and not many and verb in REPLAYED:
            # A plain driver cursor on the same connection and transaction: no wrapper sees the
            # replay, and the composed text is neither renumbered nor prepared (the claim's own
            # cursor, ``tasks_app.prepared``, would prepare every replay's distinct text).
            raw = connection.connection.cursor()
            raw.execute("SAVEPOINT bench_explain")
            raw.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + connection.ops.compose_sql(sql, params))
            plan = raw.fetchone()[0]
            plan = (plan if isinstance(plan, list) else json.loads(plan))[0]
            raw.execute("ROLLBACK TO SAVEPOINT bench_explain")
            raw.execute("RELEASE SAVEPOINT bench_explain")
            pages = sum(part.get(k, 0) for part in (plan["Plan"], plan.get("Planning", {}))
                        for k in ("Shared Hit Blocks", "Shared Read Blocks"))  # fmt: skip
            times.append((plan["Execution Time"], pages))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield times


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_claims(n: int):
    from nodes_app.models import WorkerNode
    from tasks_app.models import Task
    from tasks_app.scheduler import claim_next_task

    node = WorkerNode.objects.get(name=BENCH_NODE)
    batch = max(1, min(50, Task.objects.filter(status="QUEUED").count() // 2))
    times, statements, sql_ms = [], [], []
    cpu = {"client": 0.0, "server": 0.0}
    for i in range(n):
        if i and i % batch == 0:
            requeue_bench_claims()
        with sql_timer() as log:
            s0 = backend_cpu_s()  # read outside the claimer's window: a /proc read is not the claim's CPU
            c0, t0 = time.process_time(), time.perf_counter()
            task = claim_next_task(node)
            times.append((time.perf_counter() - t0) * 1000)
            cpu["client"] += time.process_time() - c0
            cpu["server"] += backend_cpu_s() - s0
        statements.append(len(log))
        sql_ms.append(sum(ms for _, ms, _ in log))
        assert task is not None, "queue ran dry"
    requeue_bench_claims()
    from django.db import transaction

    server = []
    for _ in range(20):
        with transaction.atomic(), server_timer() as spent:
            assert claim_next_task(node) is not None, "queue ran dry"
        server.append((sum(ms for ms, _ in spent), sum(pages for _, pages in spent)))
    requeue_bench_claims()
    return {
        "p50": pct(times, 0.5),
        "p95": pct(times, 0.95),
        "stmts": statistics.median(statements),
        "sql": statistics.median(sql_ms),
        "db": statistics.median(ms for ms, _ in server),
        "pages": statistics.median(pages for _, pages in server),
        "cpu_client": cpu["client"] * 1000 / n,
        "cpu_server": cpu["server"] * 1000 / n,
    }


def backend_cpu_s() -> float:
    """CPU seconds (user + system) this connection's PostgreSQL backend has used, from /proc (the
    server runs on this machine). Unlike any wall time, not stretched by a busy CPU; ticks are
    10 ms, so only a sum over many claims means anything."""
    from django.db import connection

    if not hasattr(connection, "bench_backend_pid"):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            connection.bench_backend_pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{connection.bench_backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")  # a server on another machine
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _claimer(seconds: float, ready, go, out) -> None:
    """One claimer process: one warm-up claim (imports, connection), then, once every claimer
    is ready, claim as fast as possible for ``seconds`` or until the queue is empty.

    Like a GPU that finishes its task before it asks for the next, a claimer holds few tasks:
    every ``RELEASE_EVERY`` claims it hands them back to the queue in one UPDATE (bench
    bookkeeping, inside the measured window and its CPU), so ~``HELD`` to ``2 * HELD`` tasks are
    held throughout, as filled. Without it every claim of the run stayed held (2,400 after 6 s),
    and the fair-share count, which reads the held rows, made each claim dearer as the run went
    on (backend CPU per claim ~1.4 ms at 100 held, ~3.5-4 ms at 3,100). A claim is identified
    by task and attempt: a task handed back and claimed again is a new attempt, not a double."""
    import django

    django.setup()
    from django.db import connection

    from nodes_app.models import WorkerNode
    from tasks_app.scheduler import claim_next_task

    node = WorkerNode.objects.get(name=BENCH_NODE)
    warm = claim_next_task(node)
    backend_cpu_s()  # looks its backend's pid up outside the window
    ready.wait()
    go.wait()
    start, cpu, server = time.time(), time.process_time(), backend_cpu_s()
    claimed, holding = [], []
    while time.time() < start + seconds:
        task = claim_next_task(node)
        if task is None:
            break
        claimed.append(f"{task.pk}/{task.attempts}")
        holding.append(task.pk)
        if len(holding) >= RELEASE_EVERY:
            with connection.cursor() as cursor:
                cursor.execute(f"{REQUEUE} AND id = ANY(%s)", [holding])
            holding = []
    spent = (time.process_time() - cpu, backend_cpu_s() - server)
    out.put((claimed, [f"{warm.pk}/{warm.attempts}"] if warm else [], start, time.time(), spent))


def measure_concurrent(seconds: float):
    """8 claimer processes on one queue: claims/s, and any task claimed more than once."""
    ctx = multiprocessing.get_context("spawn")
    out, ready, go = ctx.Queue(), ctx.Barrier(CLAIMERS + 1), ctx.Event()
    procs = [ctx.Process(target=_claimer, args=(seconds, ready, go, out)) for _ in range(CLAIMERS)]
    for p in procs:
        p.start()
    ready.wait(timeout=600)
    machine = machine_cpu_s()
    go.set()
    results = [out.get(timeout=seconds + 300) for _ in procs]
    machine = machine_cpu_s() - machine
    for p in procs:
        p.join()
    claimed = [task_id for ids, _, _, _, _ in results for task_id in ids]
    every = claimed + [task_id for _, warm, _, _, _ in results for task_id in warm]
    elapsed = max(r[3] for r in results) - min(r[2] for r in results)
    requeue_bench_claims()
    n = max(1, len(claimed))
    client, server = (sum(r[4][i] for r in results) * 1000 / n for i in (0, 1))
    return {
        "per_s": len(claimed) / elapsed, "claims": len(claimed), "seconds": elapsed,
        "twice": len(every) - len(set(every)),
        "cpu": (client, server, machine * 1000 / n),
    }  # fmt: skip


def machine_cpu_s() -> float:
    """CPU seconds the whole machine has been busy (user + nice + system + irq + softirq), from
    /proc/stat: the claimers, their backends and everything else PostgreSQL runs meanwhile."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = sum(int(fields[i]) for i in (0, 1, 2, 5, 6))
    return busy / os.sysconf("SC_CLK_TCK")


def measure_ranking():
    from tasks_app.scheduler import rank_candidates

    runs = []
    for _ in range(20):
        with sql_timer() as log:
            rank_candidates()
        runs.append(log)
    head = statistics.median(log[0][1] for log in runs)
    fair = statistics.median(log[1][1] for log in runs)
    return {"head": head, "fair": fair, "head_db": server_ms(runs[-1][:1]), "fair_db": server_ms(runs[-1][1:2])}


def measure_page(client, url: str, repeat: int = 3):
    """Median SQL ms and statements of one GET (after one warm-up)."""
    client.get(url)
    runs = []
    for _ in range(repeat):
        with sql_timer() as log:
            response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        runs.append((sum(ms for _, ms, _ in log), len(log), log))
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), server_ms(runs[-1][2])


def measure_pages():
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.test import APIClient

    User = get_user_model()
    admin_user = User.objects.get(username="scale-admin")
    user = User.objects.get(username="user0001")
    web = Client(SERVER_NAME="localhost")
    web.force_login(admin_user)
    staff_api = APIClient(SERVER_NAME="localhost")
    staff_api.force_authenticate(admin_user)
    user_api = APIClient(SERVER_NAME="localhost")
    user_api.force_authenticate(user)
    return {
        "admin": measure_page(web, "/admin/tasks_app/task/"),
        "admin_queued": measure_page(web, "/admin/tasks_app/task/?status__exact=QUEUED"),
        "api_staff": measure_page(staff_api, "/api/v1/tasks/"),
        "api_user": measure_page(user_api, "/api/v1/tasks/"),
        "api_queued": measure_page(staff_api, "/api/v1/tasks/?status=QUEUED"),
    }


# --------------------------------------------------------------------------- main
def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", default=os.environ.get("SCALE_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--sizes", default="1000,100000,1000000", help="comma-separated row counts")
    parser.add_argument("--quick", action="store_true", help="sizes 1000,20000 and shorter runs")
    parser.add_argument("--claims", type=int, default=200, help="single-claimer claims per size")
    parser.add_argument("--seconds", type=float, default=5.0, help="concurrent claiming time per size")
    parser.add_argument("--keep", action="store_true", help="leave the database for inspection")
    parser.add_argument("--save", help="also write the table's numbers to this JSON file")
    parser.add_argument(
        "--compare", nargs=2, metavar=("BEFORE", "AFTER"), help="print after/before of two --save files"
    )
    args = parser.parse_args()
    if args.compare:
        print_ratios(*(json.loads(Path(p).read_text()) for p in args.compare))
        return
    sizes = [1000, 20000] if args.quick else [int(s) for s in args.sizes.split(",")]
    if args.quick:
        args.claims, args.seconds = min(args.claims, 100), min(args.seconds, 3.0)

    recreate_database(args.url)
    os.environ["DATABASE_URL"] = args.url
    import django

    django.setup()
    try:
        ids = prepare()
        rows = []
        filled = 0
        for size in sizes:
            seconds = fill(filled, size, ids)
            filled = size
            print(f"filled {size:>9,} rows ({seconds:.1f} s)", flush=True)
            row = {"size": size, "claim": measure_claims(args.claims)}
            row["conc"] = measure_concurrent(args.seconds)
            row["rank"] = measure_ranking()
            row.update(measure_pages())
            row["load"] = os.getloadavg()[0]
            rows.append(row)
            print_table(rows)
            if args.save:
                Path(args.save).write_text(json.dumps(rows, indent=1))
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate_database(args.url, drop_only=True)
        if SCRATCH:  # this run's own WORKDIR: its embedded Redis (no REDIS_URL) and files go with it
            from mofsim_site import embedded_redis

            embedded_redis.stop(Path(SCRATCH))
            shutil.rmtree(SCRATCH, ignore_errors=True)


COLUMN_TITLES = [
    "rows", "load", "claim p50 / p95 ms", "claim SQL ms (stmts)", "claim [db] ms (pages)",
    "claim CPU ms client / server", "claims/s (8 procs)", "8 procs: CPU ms a claim, clients / backends / machine",
    "claimed twice", "head ms [db]",
    "fair-share ms [db]", "admin ms (stmts) [db]", "admin QUEUED", "API staff", "API user", "API QUEUED",
]  # fmt: skip


def print_table(rows) -> None:
    print()
    print("| " + " | ".join(COLUMN_TITLES) + " |")
    print("|" + "---|" * len(COLUMN_TITLES))
    for r in rows:
        c, k, rank = r["claim"], r["conc"], r["rank"]
        cells = [
            f"{r['size']:,}", f"{r['load']:.1f}", f"{c['p50']:.1f} / {c['p95']:.1f}",
            f"{c['sql']:.1f} ({c['stmts']:.0f})", f"{c['db']:.2f} ({c['pages']:.0f})",
            f"{c['cpu_client']:.2f} / {c['cpu_server']:.2f}",
            f"{k['per_s']:.0f} ({k['claims']} in {k.get('seconds', 0):.1f} s)",
            " / ".join(f"{x:.2f}" for x in k["cpu"]) if "cpu" in k else "-", str(k["twice"]),
            f"{rank['head']:.2f} [{rank['head_db']:.2f}]",
            f"{rank['fair']:.2f} [{rank['fair_db']:.2f}]",
        ]  # fmt: skip
        for key in ("admin", "admin_queued", "api_staff", "api_user", "api_queued"):
            cells.append(f"{r[key][0]:.1f} ({r[key][1]:.0f}) [{r[key][2]:.1f}]")
        print("| " + " | ".join(cells) + " |", flush=True)


def print_ratios(before, after) -> None:
    """The claim's numbers of two runs (``--save``), side by side, and after/before."""
    print("| rows | what | before | after | after/before |")
    print("|---|---|---|---|---|")
    for b, a in zip(before, after, strict=False):
        pairs = [
            ("load average", b["load"], a["load"]), ("claim p50 ms", b["claim"]["p50"], a["claim"]["p50"]),
            ("claim p95 ms", b["claim"]["p95"], a["claim"]["p95"]),
            ("SQL statements per claim", b["claim"]["stmts"], a["claim"]["stmts"]),
            ("claim SQL ms (wall)", b["claim"]["sql"], a["claim"]["sql"]),
            ("claim [db] ms (PostgreSQL)", b["claim"]["db"], a["claim"]["db"]),
            ("claim [db] buffer pages", b["claim"]["pages"], a["claim"]["pages"]),
            ("claim CPU ms, claimer process", b["claim"]["cpu_client"], a["claim"]["cpu_client"]),
            ("claim CPU ms, PostgreSQL backend", b["claim"]["cpu_server"], a["claim"]["cpu_server"]),
            ("claims/s, 8 processes", b["conc"]["per_s"], a["conc"]["per_s"]),
            ("claimed twice", b["conc"]["twice"], a["conc"]["twice"]),
        ]  # fmt: skip
        for what, x, y in pairs:
            ratio = f"{y / x:.2f}x" if x else "-"
            print(f"| {b['size']:,} | {what} | {x:.2f} | {y:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
