from django.contrib import admin

from alerts_app.models import Alert, AlertRule


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "event", "transport", "target", "threshold", "enabled", "owner"]
    list_filter = ["event", "transport", "enabled"]
    raw_id_fields = ["owner"]


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "subject", "delivery", "rule"]
    list_filter = ["event", "delivery"]
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
