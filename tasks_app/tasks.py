"""Dramatiq actors (discovered by django_dramatiq).

``run_next_task`` is a wake-up: the message carries only a task id as a hint, and the worker
takes whichever QUEUED task the claim query ranks first (priority, fair share, model affinity).
One message per queued task keeps the counts even; a redelivered or extra message finds nothing
to claim and does nothing. A task the batched engine can share brings compatible companions
(``tasks_app.group_claim``) run in one pass (``tasks_app.group_run``); their own messages then
find nothing, or the next task. Retries are off — a CUDA OOM is not transient, and lost work is
re-queued by the lease reaper, not by the broker.
"""

import dramatiq
from django.conf import settings

from models_app import cache
from models_app.devices import pick_device
from mofsim_site.logging import bind
from tasks_app import worker_context
from tasks_app.group_claim import claim_group
from tasks_app.group_run import execute_group
from tasks_app.runner import execute_task
from tasks_app.scheduler import claim_next_task
from tasks_app.state import Lease

QUEUE = "mofsim"


@dramatiq.actor(queue_name=QUEUE, max_retries=0, time_limit=settings.TASK_TIME_LIMIT_S * 1000)
def run_next_task(hint_task_id: str) -> None:
    node = worker_context.current_node()  # waits until this worker process has bound its node
    loaded = worker_context.loaded_model_ids(cache.loaded_names())
    device = worker_context.device() or pick_device()
    task = claim_next_task(node, loaded_model_ids=loaded, families=worker_context.families(), start=f"on {device}")
    if task is not None:
        group = claim_group(task, node, device, loaded_model_ids=loaded, families=worker_context.families())
        worker_context.set_current_lease(Lease.of(task))  # a group's heartbeat names its first task
        try:
            with bind(task_id=task.pk):  # every record of this attempt carries the task id
                if group is None:
                    execute_task(task, device=device)
                else:
                    execute_group(group, device=device)
        finally:
            worker_context.set_current_lease(None)
