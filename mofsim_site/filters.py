"""Filter pieces the apps' FilterSets share (django-filter; STYLE.md "one vocabulary").

FilterSets only narrow a queryset that ``visible_to(user)`` already restricted: visibility is
never a filter a client can leave out. A bad value is a 400 whose ``details`` name the query
parameter (DRF's ``DjangoFilterBackend`` raises the form errors keyed by parameter).
"""

import django_filters
from django import forms
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from mofsim_site import executors
from mofsim_site.tags import TagError, clean_tag, tagged


def kind_choices(*, needs_structure: bool | None = None):
    """A callable giving the registered task kinds (read when a form is built: apps register in ready())."""

    def choices():
        return [
            (kind, entry.label)
            for kind, entry in executors.REGISTRY.items()
            if needs_structure is None or entry.needs_structure == needs_structure
        ]

    return choices


def invalid(problem: str) -> forms.ValidationError:
    """A validation error whose text may quote the user's input: django-filter formats every
    message with ``message % params``, so a ``%`` in the input must travel as a parameter (a
    ``?tag=50%`` was a 500, found by the fuzz test)."""
    return forms.ValidationError("%(problem)s", params={"problem": problem})


class CommaSeparatedChoiceField(forms.Field):
    """``A,b , C`` → ``["A", "B", "C"]``, each upper-cased and checked against ``allowed``."""

    def __init__(self, *, allowed, noun: str, **kwargs):
        self.valid, self.noun = list(allowed), noun
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return []
        wanted = [part.strip().upper() for part in str(value).split(",")]
        bad = [part for part in wanted if part not in self.valid]
        if bad:
            raise invalid(f"unknown {self.noun} {', '.join(bad)}")
        return wanted


@extend_schema_field(OpenApiTypes.STR)
class CommaSeparatedChoiceFilter(django_filters.Filter):
    """One query parameter holding several comma-separated choices, matched with ``__in``."""

    field_class = CommaSeparatedChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("lookup_expr", "in")
        super().__init__(*args, **kwargs)


class UpperChoiceField(forms.ChoiceField):
    """A choice given in any letter case (``?level=warning``)."""

    def to_python(self, value):
        return super().to_python(value).upper()


class AtLeastFilter(django_filters.ChoiceFilter):
    """An ordered choice (log levels) matching rows at that choice or above it."""

    field_class = UpperChoiceField

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        order = [choice for choice, _ in self.extra["choices"]]
        return qs.filter(**{f"{self.field_name}__in": order[order.index(value) :]})


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.NumberFilter):
    """A whole number (an id), where ``NumberFilter`` would take any decimal."""

    field_class = forms.IntegerField


class TagField(forms.CharField):
    """One tag, checked against the tag rule (``mofsim_site.tags``)."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return ""
        try:
            return clean_tag(value)
        except TagError as exc:
            raise invalid(str(exc)) from exc


@extend_schema_field(OpenApiTypes.STR)
class TagFilter(django_filters.Filter):
    """``?tag=mof-5``: rows whose tags include that one."""

    field_class = TagField

    def filter(self, qs, value):
        return tagged(qs, value) if value else qs
