"""One permission vocabulary (DESIGN.md rule 10): ``Model.objects.visible_to(user)``.

"Owner or staff" is written here once and used by the API, the pages, the websocket consumers
and the admin alike (NetBox's ``RestrictedQuerySet.restrict(user, action)`` is the model). A
model's manager is ``OwnedQuerySet.as_manager()``; a model whose rows can also be shared (the
built-in structures) sets ``SHARED`` to the Q that every user may see.
"""

from django.db import models
from django.db.models import Q


class OwnedQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Rows ``user`` may see: staff everything; others their own plus the model's shared rows."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_staff:
            return self
        shared = getattr(self.model, "SHARED", None)
        return self.filter(Q(owner=user) | shared) if shared is not None else self.filter(owner=user)
