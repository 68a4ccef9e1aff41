"""Tasks held (ASSIGNED/RUNNING) when leases arrived have no lease: give them an expired one, so
the first housekeeping pass fails them over instead of leaving them RUNNING forever."""

from django.db import migrations
from django.utils import timezone


def expire_leaseless(apps, schema_editor):
    Task = apps.get_model("tasks_app", "Task")
    Task.objects.filter(status__in=["ASSIGNED", "RUNNING"], lease_expires_at__isnull=True).update(
        lease_expires_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0002_attempt_leases")]

    operations = [migrations.RunPython(expire_leaseless, migrations.RunPython.noop)]
