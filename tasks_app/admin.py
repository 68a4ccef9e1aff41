"""Operator console for tasks: filters, computed columns, cancel action. Status is read-only here:
only the state machine writes it.

The task changelist must stay fast at 1M rows (issue 12): no full-table COUNT (an estimated
count on PostgreSQL, no "N total"), no date hierarchy or DISTINCT-backed filter (their choices
come from constants, not from scanning the table), and an id search that uses the primary key.
"""

import re
import uuid

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from mofsim_site import executors
from mofsim_site.counting import EstimatedCountPaginator
from tasks_app.choices import ACTIVE, STATUS_COLOURS, TERMINAL
from tasks_app.models import BenchmarkRun, Task, TaskArtifact
from tasks_app.services import cancel_task
from tasks_app.state import IllegalTransition


class StateGroupFilter(admin.SimpleListFilter):
    """Operators mostly ask "what is in flight?" — one click instead of ticking four states."""

    title = "state group"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        return [("active", "active (pending → running)"), ("terminal", "finished")]

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(status__in=ACTIVE)
        if self.value() == "terminal":
            return queryset.filter(status__in=TERMINAL)
        return queryset


class KindFilter(admin.SimpleListFilter):
    """Task types from the executor registry (a plain ``"kind"`` filter runs SELECT DISTINCT kind
    over every row to build its choices)."""

    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [(kind, entry.label) for kind, entry in sorted(executors.REGISTRY.items())]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


HEX_PREFIX = re.compile(r"^[0-9a-f]{8,32}$")


def id_prefix_range(term: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The UUID range an id, or an id prefix of at least the list's 8 characters, covers (a
    shorter term is more likely a name than an id)."""
    digits = term.strip().lower().replace("-", "")
    if not HEX_PREFIX.match(digits):
        return None
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))


class TaskArtifactInline(admin.TabularInline):
    model = TaskArtifact
    extra = 0
    can_delete = False
    readonly_fields = ["name", "path", "size_bytes", "sha256", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = [
        "short_id",
        "kind",
        "coloured_status",
        "priority",
        "owner",
        "structure",
        "model",
        "node",
        "progress_display",
        "created_at",
    ]
    list_filter = [
        StateGroupFilter, "status", KindFilter, "priority", "model", "node", ("created_at", admin.DateFieldListFilter),
    ]  # fmt: skip
    search_fields = ["owner__username", "structure__name"]  # ids: get_search_results
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_select_related = ["owner", "structure", "model", "node"]
    raw_id_fields = ["owner", "structure", "benchmark_run", "node"]
    readonly_fields = [
        "page_link",
        "status",
        "log_tail",
        "result",
        "error",
        "traceback",
        "progress_step",
        "progress_total",
        "progress",
        "attempts",
        "created_at",
        "queued_at",
        "assigned_at",
        "started_at",
        "finished_at",
    ]
    inlines = [TaskArtifactInline]
    actions = ["cancel_selected"]

    def get_search_results(self, request, queryset, search_term):
        """An id or id prefix is a primary-key range (an index scan); anything else searches
        owner names and structure names."""
        bounds = id_prefix_range(search_term)
        if bounds is not None:
            return queryset.filter(pk__gte=bounds[0], pk__lte=bounds[1]), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="id")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="status", ordering="status")
    def coloured_status(self, obj):
        return format_html('<b style="color:{}">{}</b>', STATUS_COLOURS.get(obj.status, "black"), obj.status)

    @admin.display(description="page")
    def page_link(self, obj):
        return format_html('<a href="{}">open the live task page</a>', reverse("tasks_app:task_detail", args=[obj.pk]))

    @admin.display(description="log (last 100 lines)")
    def log_tail(self, obj):
        """A tail, not an inline: long MD runs have thousands of lines and the form would choke."""
        lines = list(obj.log_lines.order_by("-id")[:100])[::-1]
        if not lines:
            return "—"
        rows = format_html_join(
            "\n", "{} {} {}", ((line.created_at.strftime("%H:%M:%S"), line.level, line.message) for line in lines)
        )
        return format_html('<pre style="max-height:24em;overflow:auto">{}</pre>', rows)

    @admin.display(description="progress")
    def progress_display(self, obj):
        if obj.progress_total:
            return f"{obj.progress_step}/{obj.progress_total}"
        return "—"

    @admin.action(description="Cancel selected tasks")
    def cancel_selected(self, request, queryset):
        done = 0
        for task in queryset:
            try:
                cancel_task(task, by=request.user.get_username())
                done += 1
            except IllegalTransition:
                continue
        self.message_user(request, f"cancelled {done} task(s)", messages.INFO)


@admin.register(BenchmarkRun)
class BenchmarkRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "model", "structure_set", "preset", "owner", "created_at"]
    list_filter = ["kind", "model", "preset"]
    list_select_related = ["model", "structure_set", "owner"]
    raw_id_fields = ["owner"]
