"""Task states, their legal transitions, and priorities (DESIGN.md rule 2)."""

from django.db import models


class TaskStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    QUEUED = "QUEUED", "Queued"
    ASSIGNED = "ASSIGNED", "Assigned"
    RUNNING = "RUNNING", "Running"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"
    TIMEOUT = "TIMEOUT", "Timed out"


S = TaskStatus
ACTIVE = (S.PENDING, S.QUEUED, S.ASSIGNED, S.RUNNING)
TERMINAL = (S.COMPLETED, S.FAILED, S.CANCELLED, S.TIMEOUT)

# ASSIGNED/RUNNING -> QUEUED is the fail-over path: the node went silent, the task goes back.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.QUEUED, S.CANCELLED, S.FAILED}),
    S.QUEUED: frozenset({S.ASSIGNED, S.CANCELLED, S.FAILED}),
    S.ASSIGNED: frozenset({S.RUNNING, S.QUEUED, S.CANCELLED, S.FAILED}),
    S.RUNNING: frozenset({S.COMPLETED, S.FAILED, S.CANCELLED, S.TIMEOUT, S.QUEUED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.TIMEOUT: frozenset(),
}

STATUS_COLOURS = {
    S.PENDING: "grey",
    S.QUEUED: "blue",
    S.ASSIGNED: "indigo",
    S.RUNNING: "amber",
    S.COMPLETED: "green",
    S.FAILED: "red",
    S.CANCELLED: "grey",
    S.TIMEOUT: "red",
}


def sources_of(target: str) -> list[str]:
    """States from which ``target`` may be entered."""
    return [src for src, targets in TRANSITIONS.items() if target in targets]


class Priority(models.IntegerChoices):
    LOW = 0, "Low"
    NORMAL = 1, "Normal"
    HIGH = 2, "High"
    CRITICAL = 3, "Critical"
