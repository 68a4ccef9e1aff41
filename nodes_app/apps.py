from django.apps import AppConfig


class NodesAppConfig(AppConfig):
    name = "nodes_app"
    verbose_name = "Worker nodes"
