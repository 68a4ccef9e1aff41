from rest_framework import serializers

from nodes_app.models import WorkerNode


class WorkerNodeSerializer(serializers.ModelSerializer):
    is_alive = serializers.BooleanField(read_only=True)
    seconds_since_heartbeat = serializers.FloatField(read_only=True)

    class Meta:
        model = WorkerNode
        fields = [
            "id",
            "name",
            "hostname",
            "gpu_index",
            "device",
            "gpu_name",
            "gpu_memory_total_mb",
            "gpu_memory_used_mb",
            "gpu_utilization",
            "loaded_models",
            "families",
            "status",
            "enabled",
            "is_alive",
            "last_heartbeat",
            "seconds_since_heartbeat",
        ]


class HeartbeatSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    hostname = serializers.CharField(max_length=200, required=False)
    device = serializers.CharField(max_length=20, required=False)
    gpu_index = serializers.IntegerField(required=False, allow_null=True)
    gpu_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    gpu_memory_total_mb = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    gpu_memory_used_mb = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    gpu_utilization = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=100)
    loaded_models = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=100)
    families = serializers.ListField(
        child=serializers.CharField(max_length=20), required=False, max_length=50,
        help_text="model families this process can load (its capabilities)",
    )  # fmt: skip
    versions = serializers.DictField(required=False)
    pid = serializers.IntegerField(required=False, allow_null=True)
    task = serializers.UUIDField(required=False, allow_null=True, help_text="the task this process runs now")
    lease = serializers.UUIDField(required=False, allow_null=True, help_text="that attempt's lease token")
    boot = serializers.BooleanField(required=False, default=False, help_text="first heartbeat of a new process")
