from django.contrib import admin

from models_app.models import MLModel


@admin.register(MLModel)
class MLModelAdmin(admin.ModelAdmin):
    list_display = ["name", "family", "source", "validation_status", "is_default", "enabled", "created_at"]
    list_filter = ["family", "source", "validation_status", "enabled"]
    search_fields = ["name", "sha256"]
    readonly_fields = ["sha256", "size_bytes", "model_path", "validation_status", "validation_message"]
