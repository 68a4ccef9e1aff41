"""Row counts that do not read a million rows (issue 12).

A list page needs "about how many" far more often than an exact figure, and ``COUNT(*)`` over a
large filtered table is the most expensive statement such a page runs. On PostgreSQL the
planner's estimate (``EXPLAIN``, one cheap statement) stands in for the count once it is large;
below ``EXACT_BELOW`` rows — every small table, every narrow filter — the exact ``COUNT(*)`` is
cheap and is what is returned. Other databases (SQLite, the embedded default) always count.
"""

import json
from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet

EXACT_BELOW = 10_000


def planner_estimate(queryset) -> int | None:
    """PostgreSQL's row estimate for ``queryset`` (None elsewhere)."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


def estimated_count(queryset, exact_below: int = EXACT_BELOW) -> int:
    """The exact count when small (or not on PostgreSQL), else the planner's estimate."""
    estimate = planner_estimate(queryset)
    if estimate is None or estimate < exact_below:
        return queryset.count()
    return estimate


class EstimatedCountPaginator(Paginator):
    """A Django paginator whose ``count`` is ``estimated_count`` (admin changelists, API pages).

    Near the end of a very large result the estimate can name a page that does not exist; the
    admin answers that like any out-of-range page, the API with 404."""

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            return estimated_count(self.object_list)
        return len(self.object_list)
