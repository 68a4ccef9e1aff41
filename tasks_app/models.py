"""Tasks (simulations and training jobs), their logs, metric series, artifacts, benchmark runs."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from mofsim_site.querysets import OwnedQuerySet
from tasks_app.choices import TERMINAL, Priority, TaskStatus


class BenchmarkRun(models.Model):
    """One model × one task type × one structure set; its tasks run through the normal queue."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="benchmark_runs")
    kind = models.CharField(max_length=40)
    model = models.ForeignKey("models_app.MLModel", on_delete=models.PROTECT, related_name="benchmark_runs")
    structure_set = models.ForeignKey(
        "structures_app.StructureSet", null=True, blank=True, on_delete=models.PROTECT, related_name="benchmark_runs"
    )
    preset = models.CharField(max_length=40, default="protocol")
    params = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True, default="", help_text="the owner's notes on the run")
    tags = models.JSONField(default=list, blank=True, help_text="the owner's labels, lower-case words")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name or f"{self.kind} · {self.model} · {self.structure_set}"


class Task(models.Model):
    """A unit of GPU work. ``status`` is written only by ``tasks_app.state.transition``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=40, db_index=True, help_text="executor registry key")
    status = models.CharField(max_length=12, choices=TaskStatus.choices, default=TaskStatus.PENDING, db_index=True)
    priority = models.IntegerField(choices=Priority.choices, default=Priority.NORMAL)
    structure = models.ForeignKey(
        "structures_app.Structure", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    model = models.ForeignKey(
        "models_app.MLModel", null=True, blank=True, on_delete=models.PROTECT, related_name="tasks"
    )
    benchmark_run = models.ForeignKey(
        BenchmarkRun, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    params = models.JSONField(default=dict, blank=True, help_text="validated parameters, defaults applied")
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    notes = models.TextField(blank=True, default="", help_text="the owner's notes (pages only; workers never write it)")
    tags = models.JSONField(default=list, blank=True, help_text="the owner's labels, lower-case words")
    traceback = models.TextField(blank=True)
    progress_step = models.IntegerField(default=0)
    progress_total = models.IntegerField(null=True, blank=True)
    progress = models.JSONField(default=dict, blank=True, help_text="latest metrics (energy, fmax, …)")
    node = models.ForeignKey(
        "nodes_app.WorkerNode", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    attempts = models.IntegerField(default=0, help_text="number of the current (or last) attempt")
    # The lease of the current attempt (DESIGN.md rule 1): a fencing token set by the claim and
    # required by every worker-side write, and an expiry the worker's lease keeper keeps pushing
    # forward. An expired lease is failed over whatever the node's heartbeat says.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    time_limit_s = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    wakeup_sent_at = models.DateTimeField(null=True, blank=True, help_text="last broker message for this task")
    assigned_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_pruned_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="when retention deleted its log, metric and attempt rows"
    )

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "-priority", "queued_at"], name="task_claim_idx"),
            # Housekeeping reads only the head of these (LIMITed, in index order), so a pass costs
            # the same with 100 or 100 000 queued tasks and 1M finished ones (tasks_app.reconciler,
            # tasks_app.retention).
            models.Index(fields=["wakeup_sent_at"], condition=Q(status="QUEUED"), name="task_wakeup_idx"),
            models.Index(
                fields=["finished_at"], condition=Q(rows_pruned_at__isnull=True, finished_at__isnull=False),
                name="task_unpruned_idx",
            ),
            # Fair share counts only the held rows (a few per GPU), whatever the history.
            models.Index(fields=["owner"], condition=Q(status__in=["ASSIGNED", "RUNNING"]), name="task_held_owner_idx"),
            # Newest-first lists (API, pages, admin) of one owner or one state at 1M rows.
            models.Index(fields=["owner", "-created_at"], name="task_owner_recent_idx"),
            models.Index(fields=["status", "-created_at"], name="task_status_recent_idx"),
            # The ETA's samples (tasks_app.eta): newest completed tasks of one model and task type.
            models.Index(fields=["model", "kind", "-finished_at"], condition=Q(status="COMPLETED"),
                         name="task_speed_samples_idx"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.kind} {str(self.id)[:8]} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def progress_percent(self) -> float | None:
        if not self.progress_total:
            return None
        return min(100.0, 100.0 * self.progress_step / self.progress_total)

    @property
    def wall_time_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class TaskAttempt(models.Model):
    """One claim of a task by a worker: who ran it, when, and why it ended (the requeue history)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="attempt_history")
    number = models.IntegerField()
    node = models.ForeignKey(
        "nodes_app.WorkerNode", null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    node_name = models.CharField(max_length=200, blank=True, help_text="kept when the node row goes")
    claimed_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, blank=True, help_text="the state the attempt ended in")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["task", "number"]
        constraints = [models.UniqueConstraint(fields=["task", "number"], name="unique_task_attempt")]

    def __str__(self) -> str:
        return f"{self.task_id} attempt {self.number}"

    @property
    def duration_s(self) -> float | None:
        start = self.started_at or self.claimed_at
        return (self.ended_at - start).total_seconds() if self.ended_at else None


class TaskLogLine(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="log_lines")
    created_at = models.DateTimeField(auto_now_add=True)
    level = models.CharField(max_length=10, default="INFO", db_index=True)
    source = models.CharField(max_length=20, default="platform", help_text="platform or executor")
    message = models.TextField()

    class Meta:
        ordering = ["id"]


class TaskMetricPoint(models.Model):
    """One point of a task's metric series (optimizer step, MD step or training epoch)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="metric_points")
    step = models.IntegerField()
    data = models.JSONField()

    class Meta:
        ordering = ["step", "id"]


class TaskArtifact(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="artifacts")
    name = models.CharField(max_length=200)
    attempt = models.IntegerField(default=0, help_text="the attempt that wrote it; only the final one's are kept")
    path = models.CharField(max_length=500, help_text="storage key, e.g. artifacts/<task_id>/a1/result.json")
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["task", "attempt", "name"], name="unique_task_attempt_artifact")]


class TaskCallback(models.Model):
    """Where to POST a task's state changes (issue 14): set at submit, delivered by
    ``tasks_app.callbacks`` on the service worker. The secret signs the body; it is shown once."""

    task = models.OneToOneField(Task, on_delete=models.CASCADE, primary_key=True, related_name="callback")
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="states that trigger a POST")
    secret = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"callback of {self.task_id} → {self.url}"


class CallbackDelivery(models.Model):
    """One attempt to deliver one event of a task's callback (the delivery log)."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", "Delivered"
        RETRYING = "retrying", "Failed, will retry"
        FAILED = "failed", "Failed, gave up"

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="callback_deliveries")
    delivery_id = models.UUIDField(help_text="same for every attempt of one event (X-Mofsim-Delivery)")
    event = models.CharField(max_length=12, help_text="the state entered")
    attempt = models.IntegerField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    status_code = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.IntegerField()
    next_retry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.task_id} {self.event} attempt {self.attempt}: {self.outcome}"
