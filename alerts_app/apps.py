from django.apps import AppConfig


class AlertsAppConfig(AppConfig):
    name = "alerts_app"
    verbose_name = "Alerts"

    def ready(self):
        """Alerts subscribe to task and node events; neither app knows alerts exist."""
        from alerts_app import receivers  # app registry must be ready first

        receivers.connect()
