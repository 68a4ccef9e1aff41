from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from models_app.models import MLModel
from mofsim_site import executors
from structures_app.models import Structure
from tasks_app.choices import Priority
from tasks_app.models import Task, TaskArtifact, TaskAttempt, TaskLogLine, TaskMetricPoint
from tasks_app.params import PRESET_CHOICES
from tasks_app.policy import MAX_TIME_LIMIT_S, SubmissionPolicyMixin
from tasks_app.waiting import wait_reason


@extend_schema_field({"type": "string", "enum": Priority.names, "example": "NORMAL"})
class PriorityField(serializers.Field):
    """Accepts ``"HIGH"``/``"high"`` or 0–3; renders the name."""

    def to_internal_value(self, data):
        if isinstance(data, str) and data.upper() in Priority.names:
            return Priority[data.upper()].value
        if isinstance(data, int) and data in Priority.values:
            return data
        raise serializers.ValidationError(f"must be one of {', '.join(Priority.names)}")

    def to_representation(self, value):
        return Priority(value).name


class StructureRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    n_atoms = serializers.IntegerField()


class TaskSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    priority = PriorityField()
    structure = serializers.SerializerMethodField()
    model = serializers.SlugRelatedField(slug_field="name", read_only=True)
    node = serializers.SlugRelatedField(slug_field="name", read_only=True, allow_null=True)
    progress_percent = serializers.FloatField(read_only=True, allow_null=True)
    wall_time_s = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Task
        fields = [
            "id",
            "url",
            "kind",
            "status",
            "priority",
            "structure",
            "model",
            "benchmark_run",
            "params",
            "progress_step",
            "progress_total",
            "progress_percent",
            "progress",
            "node",
            "attempts",
            "error",
            "notes",
            "tags",
            "created_at",
            "queued_at",
            "assigned_at",
            "started_at",
            "finished_at",
            "wall_time_s",
        ]

    def get_url(self, obj) -> str:
        return reverse("api:task-detail", kwargs={"pk": obj.pk}, request=self.context.get("request"))

    @extend_schema_field(StructureRefSerializer(allow_null=True))
    def get_structure(self, obj):
        if obj.structure_id is None:
            return None
        return {"id": obj.structure_id, "name": obj.structure.name, "n_atoms": obj.structure.n_atoms}


class TaskAttemptSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_name")

    class Meta:
        model = TaskAttempt
        fields = ["number", "node", "claimed_at", "started_at", "ended_at", "outcome", "reason"]


class TaskDetailSerializer(TaskSerializer):
    attempt_history = TaskAttemptSerializer(many=True, read_only=True)
    wait_reason = serializers.SerializerMethodField(help_text="why a task queued for a while still waits")

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "traceback", "time_limit_s", "wait_reason", "attempt_history"]

    def get_wait_reason(self, obj) -> str | None:
        return wait_reason(obj)


class VisibleStructureField(serializers.PrimaryKeyRelatedField):
    """A structure id the user may use; another user's and a missing id get the same answer."""

    default_error_messages = {
        "does_not_exist": "structure {pk_value} not found",
        "incorrect_type": "must be a structure id (an integer)",
    }

    def __init__(self, **kwargs):
        super().__init__(pk_field=serializers.IntegerField(min_value=1, max_value=2**63 - 1), **kwargs)

    def get_queryset(self):

        return Structure.objects.visible_to(self.context["request"].user)

    def to_internal_value(self, data):
        known = self.context.get("structures")  # a batch looked every id up in one query
        if known is not None and type(data) is int and data in known:
            return known[data]
        return super().to_internal_value(data)


class ModelNameField(serializers.SlugRelatedField):
    """An enabled model by name (a batch passes the names it looked up in one query)."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="name", queryset=MLModel.objects.filter(enabled=True), **kwargs)

    def to_internal_value(self, data):
        known = self.context.get("models")
        if known is not None and isinstance(data, str) and data in known:
            return known[data]
        return super().to_internal_value(data)


def default_model(context: dict):
    """The default model (once per request in a batch)."""
    if "default_model" not in context:
        context["default_model"] = MLModel.objects.filter(is_default=True, enabled=True).first()
    return context["default_model"]


class TaskSubmitSerializer(SubmissionPolicyMixin, serializers.Serializer):
    """Body of ``POST /api/v1/tasks/{type}``. Params are validated by the type's serializer."""

    structure = VisibleStructureField()
    model = ModelNameField(required=False, allow_null=True)
    params = serializers.JSONField(required=False, default=dict)
    preset = serializers.ChoiceField(choices=PRESET_CHOICES, default="protocol")
    priority = PriorityField(required=False, default=Priority.NORMAL)
    time_limit_s = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_TIME_LIMIT_S)

    def validate(self, attrs):
        entry = executors.get(self.context.get("kind") or attrs["kind"])
        if entry.needs_model and attrs.get("model") is None:
            default = default_model(self.context)
            if default is None:
                raise serializers.ValidationError({"model": ["no model given and no default model registered"]})
            attrs["model"] = default
        model = attrs.get("model")
        if model is not None and not model.is_usable:
            raise serializers.ValidationError(
                {"model": [f"model {model.name} is not validated ({model.validation_status})"]}
            )
        return attrs


class TaskLogLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskLogLine
        fields = ["id", "created_at", "level", "source", "message"]


class TaskMetricPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaskMetricPoint
        fields = ["step", "data"]


class TaskArtifactSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = TaskArtifact
        fields = ["name", "url", "size_bytes", "sha256", "created_at"]

    def get_url(self, obj) -> str:
        return reverse(
            "api:task-artifact", kwargs={"pk": obj.task_id, "name": obj.name}, request=self.context.get("request")
        )


class TaskResultSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.CharField()
    result = serializers.JSONField(help_text="type-specific result with a 'provenance' object")


class TaskTypeSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    needs_structure = serializers.BooleanField()
    needs_model = serializers.BooleanField()
    defaults = serializers.DictField(child=serializers.DictField(), help_text="preset -> parameter defaults")
