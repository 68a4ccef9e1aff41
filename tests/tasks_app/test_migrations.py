"""Migrations run on a database that holds data: a task claimed before leases existed is failed over."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tasks_app.leases import expire_leases
from tasks_app.models import Task as CurrentTask

pytestmark = pytest.mark.django_db(transaction=True)


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def latest():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def back_to_latest():
    """Leave the schema as every later test expects it: all apps at their latest migration."""
    yield
    latest()


def test_a_claim_from_before_leases_gets_an_expired_lease(owner, back_to_latest):
    old = migrate(("tasks_app", "0002_attempt_leases"))
    Task = old.get_model("tasks_app", "Task")
    held = Task.objects.create(owner_id=owner.pk, kind="single_point", params={}, status="RUNNING", attempts=1)
    queued = Task.objects.create(owner_id=owner.pk, kind="single_point", params={}, status="QUEUED")
    after = migrate(("tasks_app", "0003_expire_leaseless_claims")).get_model("tasks_app", "Task")
    assert after.objects.get(pk=held.pk).lease_expires_at is not None
    assert after.objects.get(pk=queued.pk).lease_expires_at is None

    # Today's code on today's schema (later migrations add columns the current model reads).
    latest()
    assert expire_leases(timezone.now() + timedelta(seconds=1)) == 1
    assert CurrentTask.objects.get(pk=held.pk).status == "QUEUED"
