"""Operator console for tasks: filters, computed columns, cancel action. Status is read-only here:
only the state machine writes it."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

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
    list_filter = [StateGroupFilter, "status", "kind", "priority", "model", "node"]
    search_fields = ["id", "owner__username", "structure__name"]
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
    date_hierarchy = "created_at"

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
