"""The ETA's samples (tasks_app.eta): the newest completed tasks of one model and task type,
read from an index whatever the history."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0007_notes_tags")]

    operations = [
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("status", "COMPLETED")),
                fields=["model", "kind", "-finished_at"],
                name="task_speed_samples_idx",
            ),
        ),
    ]
