"""Housekeeping reads only the head of two partial indexes (issue 12): QUEUED tasks by last
wake-up (the reconciler) and finished tasks whose rows retention has not pruned yet."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0005_scale_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="rows_pruned_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="when retention deleted its log, metric and attempt rows",
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("status", "QUEUED")), fields=["wakeup_sent_at"], name="task_wakeup_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="task",
            index=models.Index(
                condition=models.Q(("finished_at__isnull", False), ("rows_pruned_at__isnull", True)),
                fields=["finished_at"],
                name="task_unpruned_idx",
            ),
        ),
    ]
