"""Notes and tags on tasks, written by their owner from the task page (never by workers)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0006_housekeeping")]

    operations = [
        migrations.AddField(
            model_name="task",
            name="notes",
            field=models.TextField(
                blank=True, default="", help_text="the owner's notes (pages only; workers never write it)"
            ),
        ),
        migrations.AddField(
            model_name="task",
            name="tags",
            field=models.JSONField(blank=True, default=list, help_text="the owner's labels, lower-case words"),
        ),
    ]
