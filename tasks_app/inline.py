"""Running a task in the calling process — ``enqueue_benchmark --sync``, notebooks, tests.

Goes through the same claim and state machine as a worker, so a task run inline is
indistinguishable from one a worker ran (except ``node`` is empty).
"""

from models_app.devices import pick_device
from tasks_app.choices import TaskStatus
from tasks_app.runner import execute_task
from tasks_app.state import transition


def run_task_inline(task, device: str | None = None):
    device = device or pick_device()
    transition(task, TaskStatus.ASSIGNED, only_from=TaskStatus.QUEUED, message="claimed for an inline run",
               start=f"on {device}")  # fmt: skip
    return execute_task(task, device=device)
