from django.apps import AppConfig


class StructuresAppConfig(AppConfig):
    name = "structures_app"
    verbose_name = "Structures"
