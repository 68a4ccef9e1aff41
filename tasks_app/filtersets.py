"""Query-parameter filters of the task lists (``/api/v1/tasks/`` and a task's ``logs/``)."""

import django_filters

from mofsim_site.filters import AtLeastFilter, CommaSeparatedChoiceFilter, IntegerFilter, TagFilter, kind_choices
from tasks_app.choices import TaskStatus
from tasks_app.models import Task, TaskLogLine

LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]


class TaskFilterSet(django_filters.FilterSet):
    status = CommaSeparatedChoiceFilter(
        allowed=TaskStatus.values, noun="status", label="statuses, comma-separated (e.g. QUEUED,RUNNING)"
    )
    kind = django_filters.ChoiceFilter(choices=kind_choices(), label="task type")
    benchmark_run = django_filters.UUIDFilter(
        field_name="benchmark_run_id",
        label="tasks of this benchmark run",
        error_messages={"invalid": "must be a benchmark run id (UUID)"},
    )
    tag = TagFilter(label="tasks carrying this tag")

    class Meta:
        model = Task
        fields = ["status", "kind", "benchmark_run", "tag"]


class LogLineFilterSet(django_filters.FilterSet):
    level = AtLeastFilter(
        choices=[(level, level) for level in LEVELS],
        label="this level and above",
        error_messages={"invalid_choice": f"must be one of {', '.join(LEVELS)}"},
    )
    after = IntegerFilter(
        field_name="id",
        lookup_expr="gt",
        label="lines after this log line id",
        min_value=0,
        error_messages={"invalid": "must be a log line id", "min_value": "must be a log line id"},
    )

    class Meta:
        model = TaskLogLine
        fields = ["level", "after"]
