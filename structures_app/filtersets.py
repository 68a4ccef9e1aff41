"""Query-parameter filters of ``/api/v1/structures/``."""

import django_filters

from structures_app.models import Structure, StructureSet


def visible_sets(request):
    """The sets a ``?set=`` may name: the ones the user sees (an unknown or hidden slug is a 400)."""
    return StructureSet.objects.visible_to(request.user if request else None)


class StructureFilterSet(django_filters.FilterSet):
    set = django_filters.ModelChoiceFilter(
        field_name="sets", to_field_name="slug", queryset=visible_sets, label="structures in this set (slug)"
    )
    source = django_filters.ChoiceFilter(choices=Structure.Source.choices, label="upload or builtin")

    class Meta:
        model = Structure
        fields = ["set", "source"]
