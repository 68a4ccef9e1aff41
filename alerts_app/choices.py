from django.db import models


class AlertEvent(models.TextChoices):
    TASK_FAILED = "task_failed", "Task failed"
    TASK_TIMEOUT = "task_timeout", "Task timed out"
    NODE_OFFLINE = "node_offline", "Node went offline"
    QUEUE_DEPTH = "queue_depth", "Queue depth above threshold"


class Transport(models.TextChoices):
    WEBHOOK = "webhook", "Webhook (POST JSON)"
    EMAIL = "email", "E-mail"
