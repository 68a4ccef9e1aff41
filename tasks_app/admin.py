"""Operator console for tasks: filters, computed columns, cancel action. Status is read-only here:
only the state machine writes it."""

from django.contrib import admin, messages
from django.utils.html import format_html

from tasks_app.choices import STATUS_COLOURS
from tasks_app.models import BenchmarkRun, Task, TaskArtifact, TaskLogLine
from tasks_app.services import cancel_task
from tasks_app.state import IllegalTransition


class TaskLogLineInline(admin.TabularInline):
    model = TaskLogLine
    extra = 0
    can_delete = False
    fields = ["created_at", "level", "source", "message"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


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
    list_filter = ["status", "kind", "priority", "model", "node"]
    search_fields = ["id", "owner__username", "structure__name"]
    list_select_related = ["owner", "structure", "model", "node"]
    raw_id_fields = ["owner", "structure", "benchmark_run", "node"]
    readonly_fields = [
        "status",
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
    inlines = [TaskArtifactInline, TaskLogLineInline]
    actions = ["cancel_selected"]
    date_hierarchy = "created_at"

    @admin.display(description="id")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="status", ordering="status")
    def coloured_status(self, obj):
        return format_html('<b style="color:{}">{}</b>', STATUS_COLOURS.get(obj.status, "black"), obj.status)

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
