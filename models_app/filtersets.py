"""Query-parameter filters of ``/api/v1/datasets/``."""

import django_filters

from models_app.choices import DatasetKind
from models_app.models import TrainingDataset


class DatasetFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=DatasetKind.choices, label="dataset kind")

    class Meta:
        model = TrainingDataset
        fields = ["kind"]
