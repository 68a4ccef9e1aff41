"""Indexes that keep the claim, fair share and the newest-first lists independent of history
(issue 12). On PostgreSQL they are built CONCURRENTLY, so adding them to a live 1M-row table
does not block workers claiming tasks; elsewhere (SQLite) a plain CREATE INDEX."""

from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """``AddIndexConcurrently`` on PostgreSQL, ``AddIndex`` on any other database.

    django.contrib.postgres's operation passes ``concurrently=True`` to the schema editor, which
    only PostgreSQL's accepts; the migration is non-atomic so either path works."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, concurrently=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, concurrently=True)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("tasks_app", "0004_task_callbacks")]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="task",
            index=models.Index(
                condition=models.Q(("status__in", ["ASSIGNED", "RUNNING"])),
                fields=["owner"],
                name="task_held_owner_idx",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="task",
            index=models.Index(fields=["owner", "-created_at"], name="task_owner_recent_idx"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="task",
            index=models.Index(fields=["status", "-created_at"], name="task_status_recent_idx"),
        ),
    ]
