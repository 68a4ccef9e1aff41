"""Structures in the operator console; sets show their size without a query per row."""

from django.contrib import admin
from django.db.models import Count

from structures_app.models import Structure, StructureSet, StructureSetMember


@admin.register(Structure)
class StructureAdmin(admin.ModelAdmin):
    list_display = ["name", "formula", "n_atoms", "volume", "source", "owner", "created_at"]
    list_filter = ["source", "sets"]
    search_fields = ["name", "formula", "sha256"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["sha256", "path", "size_bytes", "formula", "n_atoms", "volume", "elements"]


class MemberInline(admin.TabularInline):
    model = StructureSetMember
    raw_id_fields = ["structure"]
    extra = 0


@admin.register(StructureSet)
class StructureSetAdmin(admin.ModelAdmin):
    list_display = ["slug", "builtin", "owner", "size", "created_at"]
    list_filter = ["builtin"]
    search_fields = ["slug", "description"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    inlines = [MemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_structures=Count("structures"))

    @admin.display(description="structures", ordering="n_structures")
    def size(self, obj):
        return obj.n_structures
