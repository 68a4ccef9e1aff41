"""Parameter serializers of the training kinds (defaults sized for a CPU worker)."""

from rest_framework import serializers

from models_app.training.splits import STRATEGIES
from mofsim_site.executors import ParamsSerializer

NAME = r"^[a-z][a-z0-9_]{0,39}$"  # plugin names: checked for shape here, resolved by the worker


class DatasetRefField(serializers.DictField):
    """``{"dataset": "<uuid>", "sha256", "file_format", "name"}`` — filled in by the jobs API."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        missing = {"dataset", "sha256", "file_format"} - set(value)
        if missing:
            raise serializers.ValidationError(f"dataset reference lacks {', '.join(sorted(missing))}")
        return value


class TrainingParams(ParamsSerializer):
    epochs = serializers.IntegerField(default=30, min_value=1, max_value=10_000)
    lr = serializers.FloatField(default=3e-3, min_value=1e-7, max_value=1.0)
    seed = serializers.IntegerField(default=0, min_value=0)
    notes = serializers.CharField(default="", allow_blank=True, max_length=5000)
    plan = serializers.DictField(default=dict, help_text="the experiment plan as submitted (flattened)")
    cpu_threads = serializers.IntegerField(default=1, min_value=0, max_value=256, help_text="0 = torch default")


class TrainDMSParams(TrainingParams):
    PRESETS = {"protocol": {}, "quick": {"epochs": 10}}

    data = serializers.DictField(child=DatasetRefField(allow_null=True), help_text="scores (+ wild_type) datasets")
    batch_size = serializers.IntegerField(default=64, min_value=1, max_value=65_536)
    model = serializers.RegexField(NAME, default="cnn", help_text="cnn, ridge or a plugin model")
    split = serializers.ChoiceField(choices=STRATEGIES, default="random")
    folds = serializers.IntegerField(default=5, min_value=2, max_value=20)
    vocab = serializers.RegexField(NAME, default="iupac")
    metrics = serializers.ListField(child=serializers.RegexField(NAME), default=list, max_length=20)
    ridge_alpha = serializers.FloatField(default=1.0, min_value=0.0)
    val_fraction = serializers.FloatField(default=0.1, min_value=0.01, max_value=0.5)
    channels = serializers.IntegerField(default=32, min_value=1, max_value=1024)
    kernel_size = serializers.IntegerField(default=5, min_value=1, max_value=51)
    hidden = serializers.IntegerField(default=64, min_value=1, max_value=4096)

    def validate_data(self, value):
        if not value.get("scores"):
            raise serializers.ValidationError("a scores table (CSV/TSV) is required")
        return value


class TrainMACEParams(TrainingParams):
    PRESETS = {"protocol": {}, "quick": {"epochs": 5}}

    data = serializers.DictField(child=DatasetRefField(), help_text="structures dataset (extXYZ)")
    epochs = serializers.IntegerField(default=20, min_value=1, max_value=10_000)
    lr = serializers.FloatField(default=5e-3, min_value=1e-7, max_value=1.0)
    batch_size = serializers.IntegerField(default=4, min_value=1, max_value=1024)
    valid_fraction = serializers.FloatField(default=0.2, min_value=0.01, max_value=0.5)
    r_max = serializers.FloatField(default=4.0, min_value=1.0, max_value=12.0)
    hidden_irreps = serializers.RegexField(r"^\d+x\d[eo](\+\d+x\d[eo])*$", default="8x0e+8x1o")
    num_interactions = serializers.IntegerField(default=2, min_value=1, max_value=6)
    max_ell = serializers.IntegerField(default=2, min_value=1, max_value=4)
    correlation = serializers.IntegerField(default=2, min_value=1, max_value=4)
    energy_weight = serializers.FloatField(default=1.0, min_value=0.0)
    forces_weight = serializers.FloatField(default=10.0, min_value=0.0)
    base_model = serializers.SlugField(default="", allow_blank=True, help_text="MACE model to fine-tune")
    model_name = serializers.SlugField(default="", allow_blank=True, help_text="name to register the result under")

    def validate_data(self, value):
        if not value.get("structures"):
            raise serializers.ValidationError("a structures dataset (extXYZ) is required")
        return value
