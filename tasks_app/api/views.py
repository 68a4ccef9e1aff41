"""Tasks API: submit per type, list/get, result, cancel, logs, metrics, artifacts."""

import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from mofsim_site.api.errors import Conflict
from tasks_app import executors
from tasks_app.api.callbacks import TaskSubmitRequestSerializer, TaskSubmitResponseSerializer
from tasks_app.api.serializers import (
    TaskArtifactSerializer,
    TaskDetailSerializer,
    TaskLogLineSerializer,
    TaskMetricPointSerializer,
    TaskResultSerializer,
    TaskSerializer,
    TaskTypeSerializer,
)
from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tasks_app.params import validate_params
from tasks_app.services import cancel_task, enqueue_task, resubmit_task
from tasks_app.state import IllegalTransition

logger = logging.getLogger(__name__)
LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]
BINARY = OpenApiTypes.BINARY


def visible_tasks(user):
    qs = Task.objects.select_related("structure", "model", "node")
    return qs if user.is_staff else qs.filter(owner=user)


def get_task(request, pk) -> Task:
    return get_object_or_404(visible_tasks(request.user), pk=pk)


class TaskTypeList(APIView):
    """Task types with their parameters and defaults per preset."""

    @extend_schema(responses=TaskTypeSerializer(many=True))
    def get(self, request):
        out = []
        for entry in executors.REGISTRY.values():
            params_cls = entry.load_params()
            defaults = {name: f.default for name, f in params_cls().fields.items() if not callable(f.default)}
            out.append(
                {
                    "kind": entry.kind,
                    "label": entry.label,
                    "needs_structure": entry.needs_structure,
                    "needs_model": entry.needs_model,
                    "defaults": {preset: {**defaults, **over} for preset, over in params_cls.PRESETS.items()},
                }
            )
        return Response(out)


class TaskSubmit(APIView):
    @extend_schema(request=TaskSubmitRequestSerializer, responses={201: TaskSubmitResponseSerializer})
    def post(self, request, kind):
        if kind not in executors.REGISTRY:
            raise NotFound(f"unknown task type {kind!r}; see /api/v1/tasks/types/")
        body = TaskSubmitRequestSerializer(data=request.data, context={"request": request, "kind": kind})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            params = validate_params(kind, data.get("params"), data["preset"])
        except ValidationError as exc:
            raise ValidationError({"params": exc.detail}) from exc
        with transaction.atomic():
            task = enqueue_task(
                owner=request.user,
                kind=kind,
                params=params,
                structure=data.get("structure"),
                model=data.get("model"),
                priority=data["priority"],
                time_limit_s=data.get("time_limit_s"),
            )
            secret = body.attach_callback(task)
        context = {"request": request, "generated_secret": secret}
        return Response(TaskSubmitResponseSerializer(task, context=context).data, status=status.HTTP_201_CREATED)


class TaskList(generics.ListAPIView):
    serializer_class = TaskSerializer

    def get_queryset(self):
        qs = visible_tasks(self.request.user).order_by("-created_at")
        params = self.request.query_params
        if "status" in params:
            wanted = [s.strip().upper() for s in params["status"].split(",")]
            bad = [s for s in wanted if s not in TaskStatus.values]
            if bad:
                raise ValidationError({"status": [f"unknown status {', '.join(bad)}"]})
            qs = qs.filter(status__in=wanted)
        if "kind" in params:
            qs = qs.filter(kind=params["kind"])
        if "benchmark_run" in params:
            qs = qs.filter(benchmark_run_id=params["benchmark_run"])
        return qs


class TaskDetail(generics.RetrieveAPIView):
    serializer_class = TaskDetailSerializer

    def get_object(self):
        return get_task(self.request, self.kwargs["pk"])


class TaskResult(APIView):
    @extend_schema(responses={200: TaskResultSerializer, 409: OpenApiResponse(description="not COMPLETED")})
    def get(self, request, pk):
        task = get_task(request, pk)
        if task.status != TaskStatus.COMPLETED:
            raise Conflict(f"task is {task.status}; a result exists only for COMPLETED tasks")
        return Response({"id": str(task.pk), "kind": task.kind, "status": task.status, "result": task.result})


class TaskCancel(APIView):
    @extend_schema(request=None, responses={200: TaskDetailSerializer, 409: OpenApiResponse(description="finished")})
    def post(self, request, pk):
        task = get_task(request, pk)
        try:
            task = cancel_task(task, by=request.user.get_username())
        except IllegalTransition as exc:
            raise Conflict(f"task is {exc.current}; only queued or running tasks can be cancelled") from exc
        return Response(TaskDetailSerializer(task, context={"request": request}).data)


class TaskRerun(APIView):
    """Submit the same task again (same type, inputs, parameters, priority) as a new task."""

    @extend_schema(request=None, responses={201: TaskDetailSerializer})
    def post(self, request, pk):
        try:
            task = resubmit_task(get_task(request, pk), request.user)
        except IllegalTransition as exc:
            raise Conflict(f"cannot re-run: {exc.target}") from exc
        return Response(TaskDetailSerializer(task, context={"request": request}).data, status=status.HTTP_201_CREATED)


class TaskLogs(generics.ListAPIView):
    serializer_class = TaskLogLineSerializer

    def get_queryset(self):
        task = get_task(self.request, self.kwargs["pk"])
        qs = task.log_lines.order_by("id")
        level = self.request.query_params.get("level")
        if level:
            level = level.upper()
            if level not in LEVELS:
                raise ValidationError({"level": [f"must be one of {', '.join(LEVELS)}"]})
            qs = qs.filter(level__in=LEVELS[LEVELS.index(level) :])
        after = self.request.query_params.get("after")
        if after:
            if not after.isdigit():
                raise ValidationError({"after": ["must be a log line id"]})
            qs = qs.filter(id__gt=int(after))
        return qs


class TaskMetrics(generics.ListAPIView):
    serializer_class = TaskMetricPointSerializer
    pagination_class = None

    def get_queryset(self):
        return get_task(self.request, self.kwargs["pk"]).metric_points.order_by("step", "id")


class TaskArtifacts(generics.ListAPIView):
    serializer_class = TaskArtifactSerializer
    pagination_class = None

    def get_queryset(self):
        return get_task(self.request, self.kwargs["pk"]).artifacts.order_by("name")


def artifact_response(task: Task, name: str) -> FileResponse:
    """Stream one archived artifact (works for local disk and object storage)."""
    artifact = task.artifacts.filter(name=name).first()
    if artifact is None:
        raise NotFound(f"task has no artifact {name!r}")
    handle = default_storage.open(artifact.path, "rb")
    return FileResponse(handle, as_attachment=True, filename=f"{str(task.pk)[:8]}-{artifact.name}")


class TaskArtifactDownload(APIView):
    @extend_schema(operation_id="tasks_artifact_download", responses={(200, "application/octet-stream"): BINARY})
    def get(self, request, pk, name):
        return artifact_response(get_task(request, pk), name)
