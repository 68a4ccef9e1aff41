"""Worker nodes: one row per GPU worker process (or the CPU worker when there is no GPU)."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from nodes_app.choices import NodeStatus


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class WorkerNode(models.Model):
    """A worker process pinned to one GPU.

    Only a SHA-256 of the node token is stored; the token itself is shown once when issued.
    ``enabled`` is the operator's switch (a disabled node claims no new work). ``families`` are
    the model families (``models_app.families``) its process found importable at boot — its
    capabilities; ``versions`` holds those packages' versions next to torch, ase and numpy.
    """

    name = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=200, blank=True)
    gpu_index = models.IntegerField(null=True, blank=True, help_text="null for a CPU worker")
    device = models.CharField(max_length=20, default="cpu")
    gpu_name = models.CharField(max_length=200, blank=True)
    gpu_memory_total_mb = models.IntegerField(null=True, blank=True)
    gpu_memory_used_mb = models.IntegerField(null=True, blank=True)
    gpu_utilization = models.FloatField(null=True, blank=True)
    loaded_models = models.JSONField(default=list, blank=True)
    families = models.JSONField(
        default=list, blank=True, help_text="model families this node's environment loads (reported at boot)"
    )
    versions = models.JSONField(default=dict, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    token_hash = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=20, choices=NodeStatus.choices, default=NodeStatus.OFFLINE)
    enabled = models.BooleanField(default=True)
    last_heartbeat = models.DateTimeField(null=True, blank=True)
    registered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def issue_token(self) -> str:
        """Create a new token, store its hash, and return the plain token (shown once)."""
        token = secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        self.save(update_fields=["token_hash"])
        return token

    def check_token(self, token: str) -> bool:
        return bool(self.token_hash) and secrets.compare_digest(self.token_hash, hash_token(token or ""))

    @property
    def seconds_since_heartbeat(self) -> float | None:
        if self.last_heartbeat is None:
            return None
        return (timezone.now() - self.last_heartbeat).total_seconds()

    @property
    def is_alive(self) -> bool:
        age = self.seconds_since_heartbeat
        return age is not None and age <= settings.NODE_OFFLINE_AFTER_S and self.status == NodeStatus.ONLINE


class NodeCommand(models.Model):
    """An operator's request that a node load or unload a model (its per-process cache).

    Written by the API/admin, picked up by the node's worker between heartbeats and run in a
    thread of its own (a load can take a minute; heartbeats and the running task go on), then
    marked done or failed with a message. The node page shows the result through the worker's
    next heartbeat (``loaded_models``).
    """

    class Action(models.TextChoices):
        LOAD = "load", "Load"
        UNLOAD = "unload", "Unload"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    node = models.ForeignKey(WorkerNode, on_delete=models.CASCADE, related_name="commands")
    action = models.CharField(max_length=10, choices=Action.choices)
    model_name = models.CharField(max_length=100, blank=True, help_text="empty with unload: every model")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.model_name or 'all'} on {self.node}"
