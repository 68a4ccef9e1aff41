"""Claiming several compatible QUEUED tasks for one batched pass (across-task batching, issue 13).

The first task is whatever the normal claim ranks first (``scheduler.claim_next_task``: priority,
fair share, model affinity). When the batched engine can serve it — a kind in
``executors.grouped.GROUPED``, a model family with a batched path, ``engine`` "batched", no D3 —
the worker also takes *companions*: the next compatible tasks in the same ranking (same kind,
model and shared parameters; the device is the worker's own), each locked and moved QUEUED →
ASSIGNED by the scheduler's own one-row claim (``scheduler.claim_task``: ``FOR UPDATE SKIP
LOCKED`` plus the conditional UPDATE, one statement on PostgreSQL), so no task is claimed twice.
It stops at ``WORKER_CLAIM_BATCH`` tasks, ``BATCH_MAX_STRUCTURES`` and the engine's memory budget
for one pass (structures estimated from their atom counts). A companion is never taken past a
waiting task of higher priority that it could not share the pass with: grouping must not let
low-priority work overtake urgent work.
"""

import torch
from django.conf import settings

from models_app.batched.engine import BYTES_PER_EDGE, estimated_cost, max_structures, memory_budget_bytes
from tasks_app.choices import TaskStatus
from tasks_app.executors.grouped import GROUPED
from tasks_app.models import Task
from tasks_app.scheduler import claim_task, rank_candidates

S = TaskStatus


def group_key(kind: str, model_id, family: str | None, has_structure: bool, params: dict) -> tuple | None:
    """What two tasks must share to run in one pass; None when the task is not groupable at all.

    A task without ``engine`` in its params predates the choice and keeps the reference path."""
    grouped = GROUPED.get(kind)
    if grouped is None or family not in BYTES_PER_EDGE or not has_structure:
        return None
    if params.get("engine", "ase") != "batched" or params.get("d3"):
        return None
    return (kind, model_id, *(repr(params.get(name)) for name in grouped.shared_params))


def key_of(task: Task) -> tuple | None:
    family = task.model.family if task.model is not None else None
    return group_key(task.kind, task.model_id, family, task.structure_id is not None, task.params)


def claim_group(first: Task, node, device: str, loaded_model_ids=(), families=None) -> list[Task] | None:
    """``first`` plus the companions claimed for its pass; None when ``first`` runs alone on the
    reference path (not groupable, or ``WORKER_CLAIM_BATCH`` is 1)."""
    limit = min(settings.WORKER_CLAIM_BATCH, max_structures(torch.device(device)))
    key = key_of(first)
    if key is None or limit <= 1:
        return None
    family = first.model.family
    budget = memory_budget_bytes(torch.device(device))
    used = estimated_cost(family, first.structure.n_atoms if first.structure else 0)
    ranked = rank_candidates(loaded_model_ids, families=families)
    rows = {
        row["id"]: row
        for row in Task.objects.filter(pk__in=ranked, status=S.QUEUED).values(
            "id", "kind", "model_id", "model__family", "structure_id", "structure__n_atoms", "params", "priority"
        )
    }
    group = [first]
    passed_over = None  # the highest priority of a waiting task this pass cannot take
    for task_id in ranked:
        row = rows.get(task_id)
        if row is None:
            continue
        if len(group) >= limit:
            break
        compatible = key == group_key(
            row["kind"], row["model_id"], row["model__family"], row["structure_id"] is not None, row["params"]
        )
        if not compatible:
            passed_over = row["priority"] if passed_over is None else max(passed_over, row["priority"])
            continue
        if passed_over is not None and row["priority"] < passed_over:
            continue
        cost = estimated_cost(family, row["structure__n_atoms"] or 0)
        if used + cost > budget:
            continue  # a smaller one further down may still fit
        claimed = claim_task(task_id, node)
        if claimed is not None:
            group.append(claimed)
            used += cost
    return group
