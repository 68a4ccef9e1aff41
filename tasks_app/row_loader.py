"""Model instances from raw result columns, with each column's converters resolved once.

The claim statement (``tasks_app.claim_statement``) returns the claimed task and its structure,
model, node and callback as one flat row. Turning that row into instances the way the ORM does —
asking ``connection.ops`` and every field for its converters, through the ``connection`` proxy,
then ``Model.from_db`` — was the largest part of a claimer's CPU per claim (about 45 % in a
profile: ~100 proxy look-ups and ~80 converter look-ups a claim for the same answers every time).
A ``Loader`` asks once per model and connection; a claim then runs only the converters that
exist (JSON columns) and builds each instance as ``Model.__init__`` would for a full row.
"""

import weakref
from collections.abc import Sequence

from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.signals import post_init, pre_init

_loaders: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # connection wrapper → {model: Loader}


def loader(model: type[Model], conn) -> "Loader":
    """The ``Loader`` of ``model`` on ``conn`` (a ``DatabaseWrapper``, not the proxy)."""
    per_model = _loaders.setdefault(conn, {})
    found = per_model.get(model)
    if found is None:
        found = per_model[model] = Loader(model, conn)
    return found


class Loader:
    """Builds instances of ``model`` from its concrete columns, in ``_meta.concrete_fields`` order."""

    def __init__(self, model: type[Model], conn):
        fields = model._meta.concrete_fields
        self.model, self.conn, self.width = model, conn, len(fields)
        self.attnames = tuple(f.attname for f in fields)
        self.pk_index = fields.index(model._meta.pk)
        converters = []
        for i, field in enumerate(fields):
            col = field.get_col(model._meta.db_table)
            found = conn.ops.get_db_converters(col) + field.get_db_converters(conn)
            if found:
                converters.append((i, col, tuple(found)))
        self.converters = tuple(converters)
        # ``Model.__init__`` with a full positional row only stores each value under its attname.
        # A foreign key's ``<name>_id`` descriptor also forgets a cached related object, of which
        # a new instance has none; any other data descriptor on an attname (a file field, say)
        # would need its __set__: then, and while anyone listens to pre_init/post_init,
        # instances go through ``from_db`` instead.
        self.direct = all(_plain_attribute(getattr(model, name, None)) for name in self.attnames)

    def __call__(self, values: Sequence) -> Model | None:
        """The instance, as ``model.from_db`` returns it; None when the primary key is NULL (a
        LEFT JOIN that found nothing)."""
        if values[self.pk_index] is None:
            return None
        values = list(values)
        for i, col, converters in self.converters:
            value = values[i]
            for convert in converters:
                value = convert(value, col, self.conn)
            values[i] = value
        model = self.model
        if not self.direct or pre_init.has_listeners(model) or post_init.has_listeners(model):
            return model.from_db(self.conn.alias, self.attnames, values)
        instance = model.__new__(model)
        state = ModelState()
        state.adding, state.db = False, self.conn.alias
        instance.__dict__["_state"] = state
        instance.__dict__.update(zip(self.attnames, values, strict=True))
        return instance


def _plain_attribute(descriptor) -> bool:
    """Setting this class attribute on a new instance only stores the value in its __dict__."""
    return type(descriptor) is ForeignKeyDeferredAttribute or not hasattr(descriptor, "__set__")
