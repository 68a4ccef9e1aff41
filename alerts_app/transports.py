"""Alert transports behind one small interface (keyed by ``AlertRule.transport``).

Webhook targets are validated twice: when a rule is saved (``validate_webhook_url``) and again
at delivery, where the address that passed the check is the one connected to
(``mofsim_site.webhooks``: no second DNS lookup, so no rebinding). Private, loopback and
link-local addresses are refused unless ``WEBHOOK_ALLOW_PRIVATE`` is set (an on-premise
operator's choice), so a user cannot make the server probe its own network. Webhook bodies are
signed with the rule's secret.
"""

from django.conf import settings
from django.core.mail import send_mail

from mofsim_site import webhooks


class TransportError(Exception):
    pass


def validate_webhook_url(url: str) -> str:
    try:
        webhooks.validate_url(url)
    except webhooks.WebhookError as exc:
        raise TransportError(str(exc)) from exc
    return url


class Webhook:
    def send(self, target: str, subject: str, message: str, payload: dict, secret: str) -> None:
        try:
            status = webhooks.post(target, {"subject": subject, "message": message, **payload}, secret)
        except webhooks.WebhookError as exc:
            raise TransportError(str(exc)) from exc
        if status >= 300:
            raise TransportError(f"webhook answered HTTP {status}")


class Email:
    def send(self, target: str, subject: str, message: str, payload: dict, secret: str) -> None:
        send_mail(subject, message, settings.DEFAULT_FROM_EMAIL, [target])


TRANSPORTS = {"webhook": Webhook, "email": Email}


def get_transport(name: str):
    return TRANSPORTS[name]()
