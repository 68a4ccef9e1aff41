"""Drop the single-column indexes on ``owner`` and ``status`` of the task table (issue 12).

Each is covered by a composite index that leads with the same column (``task_owner_recent_idx``;
``task_claim_idx`` and ``task_status_recent_idx``), and each was one more index entry written by
every status change (never a HOT update): a claim wrote 3 index entries fewer after this.

Dropped by name (``DROP INDEX IF EXISTS``), not by ``AlterField``: on PostgreSQL that would also
drop and re-add the owner's foreign key, a full scan of the table under lock at 1M rows.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

TABLE = "tasks_app_task"


def _names(schema_editor) -> list[str]:
    """The indexes ``db_index=True`` made, named as Django names them (the ``_like`` one: PostgreSQL)."""
    name = schema_editor._create_index_name
    names = [name(TABLE, ["owner_id"], suffix=""), name(TABLE, ["status"], suffix="")]
    if schema_editor.connection.vendor == "postgresql":
        names.append(name(TABLE, ["status"], suffix="_like"))
    return names


def drop(apps, schema_editor):
    for index in _names(schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")


def restore(apps, schema_editor):
    q = schema_editor.quote_name
    owner, status, *like = _names(schema_editor)
    schema_editor.execute(f"CREATE INDEX {q(owner)} ON {q(TABLE)} ({q('owner_id')})")
    schema_editor.execute(f"CREATE INDEX {q(status)} ON {q(TABLE)} ({q('status')})")
    for index in like:
        schema_editor.execute(f"CREATE INDEX {q(index)} ON {q(TABLE)} ({q('status')} varchar_pattern_ops)")


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0009_benchmarkrun_notes_tags"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="task",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="tasks",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="task",
                    name="status",
                    field=models.CharField(
                        choices=[
                            ("PENDING", "Pending"),
                            ("QUEUED", "Queued"),
                            ("ASSIGNED", "Assigned"),
                            ("RUNNING", "Running"),
                            ("COMPLETED", "Completed"),
                            ("FAILED", "Failed"),
                            ("CANCELLED", "Cancelled"),
                            ("TIMEOUT", "Timed out"),
                        ],
                        default="PENDING",
                        max_length=12,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop, restore)],
        )
    ]
