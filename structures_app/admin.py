from django.contrib import admin

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
    inlines = [MemberInline]

    @admin.display(description="structures")
    def size(self, obj):
        return obj.structures.count()
