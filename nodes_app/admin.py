"""Operator console for the GPU pool: health at a glance, enable/disable, (re)issue tokens."""

from django.contrib import admin, messages
from django.utils.html import format_html

from nodes_app.models import WorkerNode
from nodes_app.services import set_enabled


@admin.register(WorkerNode)
class WorkerNodeAdmin(admin.ModelAdmin):
    list_display = ["name", "device", "gpu_name", "memory", "health", "enabled", "last_heartbeat", "loaded"]
    list_filter = ["status", "enabled", "device"]
    search_fields = ["name", "hostname", "gpu_name"]
    readonly_fields = [
        "token_hash",
        "last_heartbeat",
        "registered_at",
        "versions",
        "loaded_models",
        "pid",
        "gpu_memory_used_mb",
        "gpu_memory_total_mb",
        "gpu_utilization",
        "status",
    ]
    actions = ["enable_nodes", "disable_nodes", "issue_tokens"]

    @admin.display(description="GPU memory")
    def memory(self, obj):
        if obj.gpu_memory_total_mb:
            return f"{obj.gpu_memory_used_mb or 0} / {obj.gpu_memory_total_mb} MiB"
        return "—"

    @admin.display(description="health")
    def health(self, obj):
        colour = "green" if obj.is_alive else ("grey" if not obj.enabled else "red")
        label = "alive" if obj.is_alive else obj.status
        return format_html('<b style="color:{}">{}</b>', colour, label)

    @admin.display(description="models")
    def loaded(self, obj):
        return ", ".join(obj.loaded_models or []) or "—"

    @admin.action(description="Enable selected nodes")
    def enable_nodes(self, request, queryset):
        for node in queryset:
            set_enabled(node, True)

    @admin.action(description="Disable selected nodes (they finish the current task, claim no more)")
    def disable_nodes(self, request, queryset):
        for node in queryset:
            set_enabled(node, False)

    @admin.action(description="Issue new token (shown once)")
    def issue_tokens(self, request, queryset):
        for node in queryset:
            token = node.issue_token()
            self.message_user(request, f"{node.name}: MOFSIM_NODE_TOKEN={token}", messages.WARNING)
