"""Which QUEUED task a worker takes next, and the atomic claim (DESIGN.md rule 1).

Order: priority (CRITICAL first); then fair share — owners with fewer tasks already running go
first, so one user's 100-structure benchmark does not starve a colleague's single task; then
model affinity — a task for a model this worker already has loaded; then FIFO by queue time.
Claiming is a conditional UPDATE QUEUED → ASSIGNED; if another worker won the race we try the
next candidate. A redelivered message therefore never runs a task twice. The claim is a lease
for one attempt: ``Lease.of(task)`` is what the worker must present for every later write.
"""

from django.db.models import Count, Q

from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tasks_app.state import IllegalTransition, transition

S = TaskStatus
CANDIDATES = 50


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
    owners = {row["owner_id"] for row in head}
    running = dict(
        Task.objects.filter(owner_id__in=owners)
        .values("owner_id")
        .annotate(n=Count("id", filter=Q(status__in=[S.ASSIGNED, S.RUNNING])))
        .values_list("owner_id", "n")
    )
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


def claim_next_task(node, loaded_model_ids=(), kinds=None, families=None) -> Task | None:
    """Atomically take the best QUEUED task for ``node``; None when there is nothing to do."""
    if node is not None and not node.enabled:
        return None
    for task_id in rank_candidates(loaded_model_ids, kinds, families):
        task = Task(pk=task_id)
        try:
            return transition(
                task,
                S.ASSIGNED,
                only_from=S.QUEUED,
                node=node,
                message=f"claimed by {node}" if node else "claimed",
            )
        except IllegalTransition:
            continue
    return None
