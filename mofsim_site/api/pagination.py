"""API pagination: page numbers everywhere, plus keyset (cursor) paging for the big lists.

Page numbers need OFFSET (it reads every skipped row) and a COUNT; at 1M tasks both grow with
history. ``NewestFirstPagination`` keeps the page-number envelope (``count``, ``next``,
``previous``, ``results``) but, unless the client asks for ``?page=N``, its ``next`` and
``previous`` links carry a ``cursor``: the (created_at, id) of the row a page ends at, so each
page is one index range scan however deep it is. ``count`` is exact below
``mofsim_site.counting.EXACT_BELOW`` rows and the planner's estimate above (PostgreSQL).
"""

import base64
import binascii
import json
import uuid
from datetime import datetime

from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from mofsim_site.counting import EstimatedCountPaginator, estimated_count


class OrderedPageNumberPagination(PageNumberPagination):
    """Page numbers with a ``page_size`` query parameter; refuses unordered querysets.

    Paging an unordered queryset returns rows in an arbitrary order, so items can repeat or
    vanish between pages: fail loudly in development instead.
    """

    page_size_query_param = "page_size"
    max_page_size = 500

    def paginate_queryset(self, queryset, request, view=None):
        if hasattr(queryset, "ordered") and not queryset.ordered:
            raise ValueError(f"{view.__class__.__name__} paginates an unordered queryset")
        return super().paginate_queryset(queryset, request, view)


class NewestFirstPagination(OrderedPageNumberPagination):
    """Newest first by (created_at, id), paged by cursor; ``?page=N`` keeps page numbers.

    The model needs a ``created_at`` column and an index that starts with it (or with the
    column the list filters on, then it)."""

    cursor_query_param = "cursor"
    django_paginator_class = EstimatedCountPaginator  # the ?page=N path

    def paginate_queryset(self, queryset, request, view=None):
        self.keyset = self.page_query_param not in request.query_params
        if not self.keyset:
            return super().paginate_queryset(queryset, request, view)
        self.request = request
        size = self.get_page_size(request)
        token = request.query_params.get(self.cursor_query_param)
        forward, at = decode_cursor(token) if token else (True, None)
        self.count = estimated_count(queryset)
        rows = list(after(queryset, at, forward)[: size + 1])
        more = len(rows) > size
        rows = rows[:size] if forward else rows[:size][::-1]
        self.next_row = rows[-1] if rows and (more or not forward) else None
        self.previous_row = rows[0] if rows and token and (forward or more) else None
        return rows

    def get_paginated_response(self, data):
        if not self.keyset:
            return super().get_paginated_response(data)
        return Response(
            {"count": self.count, "next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_next_link(self):
        if not self.keyset:
            return super().get_next_link()
        return self._link(self.next_row, forward=True)

    def get_previous_link(self):
        if not self.keyset:
            return super().get_previous_link()
        return self._link(self.previous_row, forward=False)

    def _link(self, row, forward: bool):
        if row is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, encode_cursor(row, forward))

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from a `next`/`previous` link (omit `page` to page by cursor).",
                "schema": {"type": "string"},
            },
        ]


def after(queryset, at, forward: bool):
    """Rows past ``at`` = (created_at, pk) in newest-first order (or, backwards, oldest-first).

    The plain ``created_at`` bound comes first so the database can use it as an index range;
    the id only breaks ties between equal timestamps."""
    if not forward:
        newer = queryset.order_by("created_at", "pk")
        if at is None:
            return newer
        stamp, pk = at
        return newer.filter(created_at__gte=stamp).filter(Q(created_at__gt=stamp) | Q(pk__gt=pk))
    older = queryset.order_by("-created_at", "-pk")
    if at is None:
        return older
    stamp, pk = at
    return older.filter(created_at__lte=stamp).filter(Q(created_at__lt=stamp) | Q(pk__lt=pk))


def encode_cursor(row, forward: bool) -> str:
    raw = json.dumps(["n" if forward else "p", row.created_at.isoformat(), str(row.pk)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[bool, tuple[datetime, object]]:
    """(forward?, (created_at, pk)) from a link's cursor; 400 naming ``cursor`` if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        direction, stamp, pk = json.loads(raw)
        when = datetime.fromisoformat(stamp)
        if direction not in ("n", "p") or when.tzinfo is None:
            raise ValueError(direction)
        key = uuid.UUID(pk) if len(pk) == 36 else int(pk)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise ValidationError({"cursor": ["not a cursor from a next/previous link"]})
    return direction == "n", (when, key)
