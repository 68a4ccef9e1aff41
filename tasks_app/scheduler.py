"""Which QUEUED task a worker takes next, and the atomic claim (DESIGN.md rule 1).

Order: priority (CRITICAL first); then fair share — owners with fewer tasks already running go
first, so one user's 100-structure benchmark does not starve a colleague's single task; then
model affinity — a task for a model this worker already has loaded; then FIFO by queue time.

Cost is independent of history (issue 12): the head of the queue comes from the claim index
(status, -priority, queued_at) and the fair-share count from a partial index on the held
states, so neither reads finished rows. Each claim then locks one ranked candidate with
``SELECT … FOR UPDATE SKIP LOCKED`` and moves it QUEUED → ASSIGNED through ``transition`` in
the same transaction: concurrent claimers skip a row another claimer holds instead of waiting
for its commit, and the conditional UPDATE still decides. SQLite has no row locks; it
serialises writers, so there the conditional UPDATE alone is the arbiter and a lost race moves
on to the next candidate, as before. A redelivered message therefore never runs
a task twice. The claim is a lease for one attempt: ``Lease.of(task)`` is what the worker must
present for every later write.
"""

from django.db import connection, transaction
from django.db.models import Count, Q

from tasks_app.choices import TaskStatus
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


def rank_candidates(loaded_model_ids=(), kinds=None, families=None):
    """QUEUED tasks in claim order (a small window: the head of the queue).

    ``families`` (the model families the claiming node can load, ``models_app.families``) keeps
    out tasks whose model it cannot run; None means no such filter.
    """
    queued = Task.objects.filter(status=S.QUEUED)
    if kinds:
        queued = queued.filter(kind__in=kinds)
    if families is not None:
        queued = queued.filter(Q(model__isnull=True) | Q(model__family__in=list(families)))
    head = list(
        queued.order_by("-priority", "queued_at").values("id", "owner_id", "model_id", "priority", "queued_at")[
            :CANDIDATES
        ]
    )
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
    for task_id in rank_candidates(loaded_model_ids, kinds, families):
        claimed = _claim(task_id, node, start)
        if claimed is not None:
            return claimed
    return None


def _claim(task_id, node, start: str | None = None) -> Task | None:
    """Lock ``task_id`` if it is still QUEUED and nobody else holds it, then assign it.

    None when another claimer holds or took the row: the caller tries its next candidate."""
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            free = Task.objects.select_for_update(skip_locked=True).filter(pk=task_id, status=S.QUEUED)
            if not list(free.values_list("pk", flat=True)):
                return None
        try:
            return transition(
                Task(pk=task_id),
                S.ASSIGNED,
                only_from=S.QUEUED,
                node=node,
                message=f"claimed by {node}" if node else "claimed",
                start=start,
            )
        except IllegalTransition:  # SQLite only: another writer got there between our read and update
            return None
