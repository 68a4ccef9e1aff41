"""The MLIP registry and training data in the operator console. Validation results are
read-only: only the sandboxed validator writes them."""

from django.contrib import admin
from django.template.defaultfilters import filesizeformat

from models_app.models import MLModel, TrainingDataset


@admin.register(MLModel)
class MLModelAdmin(admin.ModelAdmin):
    list_display = ["name", "family", "source", "validation_status", "is_default", "enabled", "owner", "created_at"]
    list_filter = ["family", "source", "validation_status", "enabled"]
    search_fields = ["name", "sha256"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["sha256", "size_bytes", "model_path", "validation_status", "validation_message"]


@admin.register(TrainingDataset)
class TrainingDatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "file_format", "n_records", "size", "owner", "project", "created_at"]
    list_filter = ["kind", "file_format"]
    search_fields = ["name", "project", "sha256", "owner__username"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["path", "sha256", "size_bytes", "n_records", "summary", "file_format", "created_at"]

    @admin.display(description="size", ordering="size_bytes")
    def size(self, obj):
        return filesizeformat(obj.size_bytes)
