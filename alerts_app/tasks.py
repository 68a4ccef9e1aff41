"""Delivering alerts off the request path (a webhook may be slow or down)."""

import dramatiq
from django.utils import timezone

from alerts_app.models import Alert
from alerts_app.transports import TransportError, get_transport


def deliver(alert: Alert) -> Alert:
    rule = alert.rule
    try:
        get_transport(rule.transport).send(rule.target, alert.subject, alert.message, alert.payload, rule.secret)
    except TransportError as exc:
        alert.delivery, alert.delivery_error = Alert.Delivery.FAILED, str(exc)
    else:
        alert.delivery, alert.delivered_at = Alert.Delivery.SENT, timezone.now()
    alert.save(update_fields=["delivery", "delivery_error", "delivered_at"])
    return alert


@dramatiq.actor(queue_name="service", max_retries=3, time_limit=60_000)
def deliver_alert(alert_id: int) -> None:
    alert = Alert.objects.select_related("rule").filter(pk=alert_id).first()
    if alert is not None and alert.delivery == Alert.Delivery.PENDING:
        deliver(alert)
