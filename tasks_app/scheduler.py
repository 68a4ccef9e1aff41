"""Which QUEUED task a worker takes next, and the atomic claim (DESIGN.md rule 1).

Order: priority (CRITICAL first); then fair share — owners with fewer tasks already running go
first, so one user's 100-structure benchmark does not starve a colleague's single task; then
model affinity — a task for a model this worker already has loaded; then FIFO by queue time.

Cost is independent of history (issue 12): the head of the queue comes from the claim index
(status, -priority, queued_at) and the fair-share count from a partial index on the held
states, so neither reads finished rows. On PostgreSQL the whole claim — ranking the window,
locking the first free row with ``FOR UPDATE SKIP LOCKED``, the conditional UPDATE, the log
line and the attempt row — is one statement (``tasks_app.claim_statement``): concurrent
claimers skip a row another claimer holds instead of waiting for its commit, and a claim is one
round trip. SQLite has no row locks; it serialises writers, so there the ranking is read here
(``rank_candidates``) and each candidate goes through ``transition``, whose conditional UPDATE
is the arbiter: a lost race moves on to the next candidate. A redelivered message therefore
never runs a task twice. The claim is a lease for one attempt: ``Lease.of(task)`` is what the
worker must present for every later write.
"""

import functools

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet

from tasks_app import claim_statement
from tasks_app.choices import TaskStatus
from tasks_app.claim_statement import HEAD_COLUMNS
from tasks_app.models import Task
from tasks_app.state import HELD, IllegalTransition, transition

S = TaskStatus
CANDIDATES = 50


def running_per_owner(owner_ids) -> dict[int, int]:
    """Tasks each owner has held by a worker (ASSIGNED/RUNNING): the fair-share key.

    The status test sits in the WHERE (not in a COUNT FILTER), so PostgreSQL answers from the
    partial index ``task_held_owner_idx`` and never visits finished rows."""
    rows = (
        Task.objects.filter(status__in=HELD, owner_id__in=owner_ids)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    return dict(rows)


def queued_tasks(kinds=None, families=None) -> QuerySet:
    """QUEUED tasks a claimer may take, in queue order (priority, then queue time); the ranking's
    window is its head.

    ``families`` (the model families the claiming node can load, ``models_app.families``) keeps
    out tasks whose model it cannot run; None means no such filter.
    """
    queued = Task.objects.filter(status=S.QUEUED)
    if kinds:
        queued = queued.filter(kind__in=kinds)
    if families is not None:
        queued = queued.filter(Q(model__isnull=True) | Q(model__family__in=list(families)))
    return queued.order_by("-priority", "queued_at")


def rank_candidates(loaded_model_ids=(), kinds=None, families=None):
    """QUEUED tasks in claim order (a small window: the head of the queue)."""
    head = list(queued_tasks(kinds, families).values(*HEAD_COLUMNS)[:CANDIDATES])
    if not head:
        return []
    running = running_per_owner({row["owner_id"] for row in head})
    loaded = set(loaded_model_ids)
    head.sort(
        key=lambda r: (
            -r["priority"],
            running.get(r["owner_id"], 0),
            0 if r["model_id"] in loaded else 1,
            r["queued_at"],
        )
    )
    return [row["id"] for row in head]


def claim_next_task(node, loaded_model_ids=(), kinds=None, families=None, start: str | None = None) -> Task | None:
    """Atomically take the best QUEUED task for ``node``; None when there is nothing to do.

    ``start`` (e.g. ``"on cuda:0"``): the claimer runs the task itself at once, so the claim also
    moves it on to RUNNING in the same transaction (``tasks_app.state.transition``)."""
    if node is not None and not node.enabled:
        return None
    if connection.vendor == "postgresql":  # ranking, lock, move, log and attempt in one statement
        head = _compiled_head(tuple(kinds) if kinds else None, tuple(families) if families is not None else None)
        return claim_statement.claim(head, node, loaded_model_ids, start)
    for task_id in rank_candidates(loaded_model_ids, kinds, families):
        claimed = _claim(task_id, node, start)
        if claimed is not None:
            return claimed
    return None


@functools.lru_cache(maxsize=64)
def _compiled_head(kinds: tuple | None, families: tuple | None) -> tuple[str, tuple]:
    """The claim window's SQL and parameters: the same for every claim of a worker (its families
    do not change), so Django compiles it once per process, not once per claim."""
    return claim_statement.compile_head(queued_tasks(kinds, families), CANDIDATES)


def claim_task(task_id, node) -> Task | None:
    """Claim ``task_id`` if it is still QUEUED and nobody else holds it (a batched pass's
    companion, ``tasks_app.group_claim``); None when another claimer holds or took it."""
    if connection.vendor == "postgresql":
        head = claim_statement.compile_head(Task.objects.filter(pk=task_id, status=S.QUEUED))
        return claim_statement.claim(head, node)
    return _claim(task_id, node)


def _claim(task_id, node, start: str | None = None) -> Task | None:
    """Assign ``task_id`` if it is still QUEUED, through ``transition`` (SQLite).

    SQLite has no row locks but serialises writers: the conditional UPDATE decides, and None
    (another writer got there between our read and update) sends the caller to its next
    candidate. No savepoint inside a caller's transaction: ``transition`` refuses before it
    writes anything, and raises only after its block."""
    with transaction.atomic(savepoint=False):
        try:
            return transition(
                Task(pk=task_id),
                S.ASSIGNED,
                only_from=S.QUEUED,
                node=node,
                message=f"claimed by {node}" if node else "claimed",
                start=start,
            )
        except IllegalTransition:
            return None
