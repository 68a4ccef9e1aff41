from django.apps import AppConfig


class ModelsAppConfig(AppConfig):
    name = "models_app"
    verbose_name = "ML potentials"

    def ready(self):
        from models_app.training import register_kinds  # app registry must be ready first

        register_kinds()
