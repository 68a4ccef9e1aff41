from django.apps import AppConfig


class TasksAppConfig(AppConfig):
    name = "tasks_app"
    verbose_name = "Tasks"

    def ready(self):
        from tasks_app import callbacks  # app registry must be ready first
        from tasks_app.executors import register_kinds  # imports the executors' parameter serializers: after setup

        register_kinds()
        callbacks.connect()
