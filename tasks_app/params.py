"""Parameter validation per task type (DESIGN.md rule 3).

Each serializer's field defaults are the MOFSimBench protocol values; ``PRESETS["quick"]``
overrides them for CPU demos and tests. ``validate_params(kind, data, preset)`` returns the
complete parameter dict stored on the task, or raises ``ValidationError`` naming the field.
Unknown keys are rejected: a typo must not silently fall back to a default.
"""

from rest_framework import serializers

from tasks_app import executors
from tasks_app.executors.relax import FILTERS, OPTIMIZERS

PRESET_CHOICES = ("protocol", "quick")


class TaskParams(serializers.Serializer):
    PRESETS: dict[str, dict] = {"protocol": {}, "quick": {}}

    d3 = serializers.BooleanField(
        default=False, help_text="add D3(BJ) dispersion (torch-dftd, PBE, 40 Bohr cutoff) to the model"
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["unknown parameter"] for key in unknown})
        return super().to_internal_value(data)


class SinglePointParams(TaskParams):
    compute_stress = serializers.BooleanField(default=True)


class OptimizationParams(TaskParams):
    PRESETS = {"protocol": {}, "quick": {"fmax": 0.05, "steps": 100}}

    optimizer = serializers.ChoiceField(choices=sorted(OPTIMIZERS), default="LBFGS")
    cell_filter = serializers.ChoiceField(
        choices=sorted(FILTERS),
        default="FrechetCellFilter",
        allow_null=True,
        help_text="null relaxes positions only (fixed cell)",
    )
    fmax = serializers.FloatField(default=0.001, min_value=1e-6, max_value=10.0, help_text="eV/Å")
    steps = serializers.IntegerField(default=5000, min_value=1, max_value=100_000)


def validate_params(kind: str, data: dict | None, preset: str = "protocol") -> dict:
    if kind not in executors.REGISTRY:
        raise serializers.ValidationError({"kind": [f"unknown task type {kind!r}"]})
    if preset not in PRESET_CHOICES:
        raise serializers.ValidationError({"preset": [f"unknown preset {preset!r}; choose from {PRESET_CHOICES}"]})
    if data is not None and not isinstance(data, dict):
        raise serializers.ValidationError({"params": ["must be a JSON object"]})
    cls = executors.get(kind).load_params()
    merged = {**cls.PRESETS.get(preset, {}), **(data or {})}
    serializer = cls(data=merged)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
