"""Alert rules and the alert history (read-only: alerts are what the checker decided)."""

from django.contrib import admin
from django.utils.html import format_html

from alerts_app.models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "event", "transport", "target", "threshold", "enabled", "owner"]
    list_filter = ["event", "transport", "enabled"]
    search_fields = ["name", "target", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "subject", "delivery_state", "rule"]
    list_filter = ["event", "delivery"]
    search_fields = ["subject", "message"]
    date_hierarchy = "created_at"
    list_select_related = ["rule"]
    readonly_fields = [
        "rule",
        "event",
        "subject",
        "message",
        "payload",
        "delivery",
        "delivery_error",
        "created_at",
        "delivered_at",
    ]

    @admin.display(description="delivery", ordering="delivery")
    def delivery_state(self, obj):
        colour = {"sent": "green", "failed": "red"}.get(obj.delivery, "grey")
        return format_html('<b style="color:{}" title="{}">{}</b>', colour, obj.delivery_error, obj.delivery)
