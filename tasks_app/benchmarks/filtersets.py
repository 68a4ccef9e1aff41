"""Query-parameter filters of ``/api/v1/benchmarks/``."""

import django_filters

from mofsim_site.filters import TagFilter, kind_choices
from tasks_app.models import BenchmarkRun


class BenchmarkRunFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=kind_choices(needs_structure=True), label="task type of the run")
    tag = TagFilter(label="runs carrying this tag")

    class Meta:
        model = BenchmarkRun
        fields = ["kind", "tag"]
