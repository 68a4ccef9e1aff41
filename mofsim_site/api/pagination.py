from rest_framework.pagination import PageNumberPagination


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
