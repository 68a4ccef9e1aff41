"""Operator console for the GPU pool: health at a glance, enable/disable, (re)issue tokens."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html

from nodes_app import commands
from nodes_app.choices import NodeStatus
from nodes_app.models import NodeCommand, WorkerNode
from nodes_app.services import set_enabled


class HeartbeatFilter(admin.SimpleListFilter):
    """ "Online" in the row may be stale until the reaper runs; this filter asks the clock."""

    title = "heartbeat"
    parameter_name = "heartbeat"

    def lookups(self, request, model_admin):
        return [("alive", "alive"), ("silent", "silent (online, no recent heartbeat)"), ("never", "never seen")]

    def queryset(self, request, queryset):
        cutoff = timezone.now() - timedelta(seconds=settings.NODE_OFFLINE_AFTER_S)
        if self.value() == "alive":
            return queryset.filter(status=NodeStatus.ONLINE, last_heartbeat__gte=cutoff)
        if self.value() == "silent":
            return queryset.filter(status=NodeStatus.ONLINE, last_heartbeat__lt=cutoff)
        if self.value() == "never":
            return queryset.filter(last_heartbeat__isnull=True)
        return queryset


@admin.register(WorkerNode)
class WorkerNodeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "device",
        "gpu_name",
        "memory",
        "health",
        "enabled",
        "last_heartbeat",
        "loaded",
        "family_list",
    ]
    list_filter = [HeartbeatFilter, "status", "enabled", "device"]
    search_fields = ["name", "hostname", "gpu_name"]
    readonly_fields = [
        "token_hash",
        "last_heartbeat",
        "registered_at",
        "versions",
        "loaded_models",
        "families",
        "pid",
        "gpu_memory_used_mb",
        "gpu_memory_total_mb",
        "gpu_utilization",
        "status",
    ]
    actions = ["enable_nodes", "disable_nodes", "issue_tokens", "unload_models"]

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

    @admin.display(description="families")
    def family_list(self, obj):
        return ", ".join(obj.families or []) or "—"

    @admin.action(description="Enable selected nodes")
    def enable_nodes(self, request, queryset):
        for node in queryset:
            set_enabled(node, True)
        self.message_user(request, f"enabled {len(queryset)} node(s)", messages.INFO)

    @admin.action(description="Disable selected nodes (they finish the current task, claim no more)")
    def disable_nodes(self, request, queryset):
        for node in queryset:
            set_enabled(node, False)
        self.message_user(request, f"disabled {len(queryset)} node(s)", messages.INFO)

    @admin.action(description="Issue new token (shown once)")
    def issue_tokens(self, request, queryset):
        for node in queryset:
            token = node.issue_token()
            self.message_user(request, f"{node.name}: MOFSIM_NODE_TOKEN={token}", messages.WARNING)

    @admin.action(description="Unload every model (free GPU memory)")
    def unload_models(self, request, queryset):
        try:
            sent = commands.request(NodeCommand.Action.UNLOAD, "", list(queryset.values_list("name", flat=True)),
                                    request.user)  # fmt: skip
        except commands.CommandError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"unload sent to {len(sent)} node(s); they act within a heartbeat")


@admin.register(NodeCommand)
class NodeCommandAdmin(admin.ModelAdmin):
    list_display = ["created_at", "node", "action", "model_name", "state", "message", "requested_by"]
    list_filter = ["state", "action"]
    list_select_related = ["node", "requested_by"]
    raw_id_fields = ["node", "requested_by"]
