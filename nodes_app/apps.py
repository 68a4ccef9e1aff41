from django.apps import AppConfig


class NodesAppConfig(AppConfig):
    name = "nodes_app"
    verbose_name = "Worker nodes"

    def ready(self):
        from nodes_app import schema  # noqa: F401 - registers the OpenAPI auth extension
