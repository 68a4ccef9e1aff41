"""``tasks_app.row_loader``: instances from raw columns must be what the ORM builds from them.

The claim statement's result row is turned into the Task and its related rows by a ``Loader``
(converters resolved once, ``Model.__init__``'s work done directly); these compare it with
``Model.from_db`` through the same converters, i.e. with what ``Task.objects.get`` returns,
on both backends (their converters differ: SQLite stores UUIDs and dates as text)."""

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models.signals import post_init

from models_app.models import MLModel
from nodes_app.models import WorkerNode
from structures_app.models import Structure
from tasks_app.models import Task, TaskCallback
from tasks_app.row_loader import Loader, loader
from tasks_app.services import enqueue_task

pytestmark = pytest.mark.django_db


def raw_row(model, pk):
    """The model's concrete columns for ``pk``, as the driver returns them (no converters)."""
    q = connection.ops.quote_name
    columns = ", ".join(q(f.column) for f in model._meta.concrete_fields)
    sql = f"SELECT {columns} FROM {q(model._meta.db_table)} WHERE {q(model._meta.pk.column)} = %s"  # noqa: S608
    pk = model._meta.pk.get_db_prep_value(pk, connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        return cursor.fetchone()


def state_of(instance):
    values = {k: v for k, v in instance.__dict__.items() if k != "_state"}
    return type(instance), values, instance._state.adding, instance._state.db


def test_it_builds_what_the_orm_builds(owner, cu_structure, emt):
    node = WorkerNode.objects.create(name="gpu-node-0")
    task = enqueue_task(owner=owner, kind="single_point", params={"fmax": 0.05, "nested": [1, {"a": None}]},
                        model=emt, structure=cu_structure)  # fmt: skip
    Task.objects.filter(pk=task.pk).update(node=node, tags=["x"], progress={"step": 3})
    callback = TaskCallback.objects.create(task=task, url="https://example.org/hook", events=["COMPLETED"], secret="s")
    conn = connections[DEFAULT_DB_ALIAS]
    for model, pk in ((Task, task.pk), (Structure, cu_structure.pk), (MLModel, emt.pk), (WorkerNode, node.pk),
                      (TaskCallback, callback.pk)):  # fmt: skip
        load = loader(model, conn)
        assert load.direct, model  # these models take the direct path (no file fields, no init signals)
        built = load(raw_row(model, pk))
        assert state_of(built) == state_of(model.objects.get(pk=pk)), model
    assert loader(Task, conn) is loader(Task, conn)  # resolved once per connection


def test_a_null_primary_key_is_no_row():
    load = loader(TaskCallback, connections[DEFAULT_DB_ALIAS])
    assert load([None] * load.width) is None


def test_init_listeners_still_hear(owner, cu_structure):
    """With a post_init receiver connected, instances go through ``Model.__init__`` (and it hears)."""
    heard = []

    def listener(sender, instance, **kwargs):
        heard.append(instance.pk)

    post_init.connect(listener, sender=Structure)
    try:
        built = Loader(Structure, connections[DEFAULT_DB_ALIAS])(raw_row(Structure, cu_structure.pk))
    finally:
        post_init.disconnect(listener, sender=Structure)
    assert heard == [cu_structure.pk] and state_of(built) == state_of(Structure.objects.get(pk=cu_structure.pk))
