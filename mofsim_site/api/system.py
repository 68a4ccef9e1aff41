"""System API (issue 14): health, GPUs per node, queue, running configuration.

``health`` needs no credentials (load balancers, compose health checks) and says only what is up,
never how it is configured. ``gpus`` and ``queue`` are for any signed-in user (researchers want to
know how long they will wait); a node's current task is named only to who may see that task.
``config`` is staff only and redacted (``mofsim_site.config_report``).
"""

from django.db.models import Count, Min, Q
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from mofsim_site.config_report import config_report
from mofsim_site.health import run_checks
from nodes_app.models import WorkerNode
from tasks_app.choices import Priority, TaskStatus
from tasks_app.models import Task

_CHECK = inline_serializer(
    "HealthCheck",
    {
        "status": serializers.ChoiceField(choices=["ok", "error", "none"]),
        "latency_ms": serializers.FloatField(),
        "error": serializers.CharField(required=False),
        "backend": serializers.CharField(required=False),
        "seen": serializers.IntegerField(required=False, help_text="workers: nodes heartbeating"),
    },
)
HealthSerializer = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "degraded"]),
        "checks": inline_serializer(
            "HealthChecks",
            {"database": _CHECK, "broker": _CHECK, "channel_layer": _CHECK, "workers": _CHECK},
        ),
    },
)


class Health(APIView):
    """Database, broker, channel layer and workers seen, each with status and latency."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        auth=[],
        parameters=[OpenApiParameter("require_workers", OpenApiTypes.BOOL, description="503 also when no worker")],
        responses={200: HealthSerializer, 503: OpenApiResponse(HealthSerializer, description="degraded")},
    )
    def get(self, request):
        require_workers = request.query_params.get("require_workers", "").lower() in {"1", "true", "yes"}
        healthy, checks = run_checks(require_workers=require_workers)
        return Response({"status": "ok" if healthy else "degraded", "checks": checks}, status=200 if healthy else 503)


class GpuSerializer(serializers.Serializer):
    node = serializers.CharField()
    hostname = serializers.CharField()
    status = serializers.CharField()
    enabled = serializers.BooleanField()
    alive = serializers.BooleanField()
    device = serializers.CharField()
    gpu_index = serializers.IntegerField(allow_null=True)
    gpu_name = serializers.CharField()
    memory_total_mb = serializers.IntegerField(allow_null=True)
    memory_used_mb = serializers.IntegerField(allow_null=True)
    utilization = serializers.FloatField(allow_null=True, help_text="GPU utilisation, percent")
    heartbeat_age_s = serializers.FloatField(allow_null=True)
    loaded_models = serializers.ListField(child=serializers.CharField())
    busy = serializers.BooleanField()
    current_task = inline_serializer(
        "GpuCurrentTask",
        {"id": serializers.UUIDField(), "kind": serializers.CharField(), "status": serializers.CharField()},
        allow_null=True,
    )


class SystemGpus(APIView):
    """Per node: GPU, memory, utilisation, heartbeat age, the task it holds."""

    @extend_schema(responses=GpuSerializer(many=True))
    def get(self, request):
        held = {}
        for task in Task.objects.filter(status__in=[TaskStatus.ASSIGNED, TaskStatus.RUNNING], node__isnull=False).only(
            "id", "kind", "status", "node_id", "owner_id"
        ):
            held[task.node_id] = task
        out = []
        for node in WorkerNode.objects.order_by("name"):
            task = held.get(node.pk)
            visible = task is not None and (request.user.is_staff or task.owner_id == request.user.pk)
            age = node.seconds_since_heartbeat
            out.append({
                "node": node.name, "hostname": node.hostname, "status": node.status, "enabled": node.enabled,
                "alive": node.is_alive, "device": node.device, "gpu_index": node.gpu_index,
                "gpu_name": node.gpu_name, "memory_total_mb": node.gpu_memory_total_mb,
                "memory_used_mb": node.gpu_memory_used_mb, "utilization": node.gpu_utilization,
                "heartbeat_age_s": round(age, 3) if age is not None else None,
                "loaded_models": list(node.loaded_models or []), "busy": task is not None,
                "current_task": {"id": task.pk, "kind": task.kind, "status": task.status} if visible else None,
            })  # fmt: skip
        return Response(GpuSerializer(out, many=True).data)


class QueueSerializer(serializers.Serializer):
    depth = serializers.DictField(child=serializers.IntegerField(), help_text="QUEUED tasks per priority")
    queued = serializers.IntegerField()
    oldest_queued_at = serializers.DateTimeField(allow_null=True)
    oldest_wait_s = serializers.FloatField(allow_null=True)
    running = serializers.ListField(
        child=inline_serializer(
            "QueueRunning",
            {
                "node": serializers.CharField(),
                "assigned": serializers.IntegerField(),
                "running": serializers.IntegerField(),
            },
        )
    )


class SystemQueue(APIView):
    """Queue depth per priority, the oldest wait, and what each node holds."""

    @extend_schema(responses=QueueSerializer)
    def get(self, request):
        S = TaskStatus
        queued = Task.objects.filter(status=S.QUEUED)
        by_priority = dict(queued.values_list("priority").annotate(n=Count("id")).order_by())
        depth = {p.name: by_priority.get(p.value, 0) for p in sorted(Priority, key=lambda p: -p.value)}
        oldest = queued.aggregate(oldest=Min("queued_at"))["oldest"]
        rows = (
            Task.objects.filter(status__in=[S.ASSIGNED, S.RUNNING], node__isnull=False)
            .values("node__name")
            .annotate(
                assigned=Count("id", filter=Q(status=S.ASSIGNED)), running=Count("id", filter=Q(status=S.RUNNING))
            )
            .order_by("node__name")
        )
        now = timezone.now()
        return Response(QueueSerializer({
            "depth": depth, "queued": sum(depth.values()), "oldest_queued_at": oldest,
            "oldest_wait_s": round((now - oldest).total_seconds(), 3) if oldest else None,
            "running": [{"node": r["node__name"], "assigned": r["assigned"], "running": r["running"]} for r in rows],
        }).data)  # fmt: skip


class SystemConfig(APIView):
    """Every setting, secrets redacted (staff only)."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="setting name -> value")})
    def get(self, request):
        return Response(config_report())
