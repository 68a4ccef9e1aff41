"""Notes and tags on benchmark runs, as tasks have them (0007), written by their owner."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0008_speed_samples_index")]

    operations = [
        migrations.AddField(
            model_name="benchmarkrun",
            name="notes",
            field=models.TextField(blank=True, default="", help_text="the owner's notes on the run"),
        ),
        migrations.AddField(
            model_name="benchmarkrun",
            name="tags",
            field=models.JSONField(blank=True, default=list, help_text="the owner's labels, lower-case words"),
        ),
    ]
