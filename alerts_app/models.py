"""Alert rules (who is told what, how) and the history of alerts raised."""

import secrets

from django.conf import settings
from django.db import models

from alerts_app.choices import AlertEvent, Transport


def new_webhook_secret() -> str:
    return secrets.token_hex(32)


class AlertRule(models.Model):
    name = models.CharField(max_length=200)
    event = models.CharField(max_length=30, choices=AlertEvent.choices)
    transport = models.CharField(max_length=20, choices=Transport.choices)
    target = models.CharField(max_length=500, help_text="webhook URL or e-mail address")
    threshold = models.IntegerField(null=True, blank=True, help_text="for queue_depth: alert above this many")
    only_own_tasks = models.BooleanField(default=True, help_text="task events: only the owner's tasks")
    enabled = models.BooleanField(default=True)
    secret = models.CharField(
        max_length=64, default=new_webhook_secret, editable=False,
        help_text="signs webhook bodies (X-Mofsim-Signature); readable by the rule's owner",
    )  # fmt: skip
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_rules")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.event} → {self.transport})"


class Alert(models.Model):
    class Delivery(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    event = models.CharField(max_length=30, choices=AlertEvent.choices)
    subject = models.CharField(max_length=300)
    message = models.TextField()
    payload = models.JSONField(default=dict)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.PENDING)
    delivery_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
