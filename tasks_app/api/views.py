"""Tasks API: submit per type, list/get, result, cancel, logs, metrics, artifacts."""

import logging

from django.db import transaction
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from mofsim_site import executors
from mofsim_site.api.errors import Conflict
from mofsim_site.api.pagination import NewestFirstPagination
from tasks_app import eta
from tasks_app.api.access import get_task, visible_tasks
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
from tasks_app.archive import artifact_response
from tasks_app.choices import TaskStatus
from tasks_app.filtersets import LogLineFilterSet, TaskFilterSet
from tasks_app.models import TaskLogLine
from tasks_app.params import validate_params
from tasks_app.policy import check_quota, priority_error, time_limit_error
from tasks_app.services import cancel_task, enqueue_task, resubmit_task
from tasks_app.state import IllegalTransition

logger = logging.getLogger(__name__)
SIMULATION_KINDS = [kind for kind, entry in executors.REGISTRY.items() if entry.needs_structure]
BINARY = OpenApiTypes.BINARY


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
    def initial(self, request, *args, **kwargs):
        """An unknown kind is a 404 whatever the method: ``tasks/<typo>/`` is a missing task, not a 405."""
        super().initial(request, *args, **kwargs)
        kind = kwargs["kind"]
        if kind not in executors.REGISTRY:
            raise NotFound(f"unknown task type {kind!r}; see /api/v1/tasks/types/")
        if not executors.get(kind).needs_structure:
            # Training kinds go through /jobs, which resolves datasets the user may read; here
            # a body could name any dataset by id (its DatasetRefField trusts the jobs API).
            raise NotFound(f"{kind} is a training job: submit it at /api/v1/jobs/")

    @staticmethod
    def validated(request, kind):
        """The submit body checked (400 naming the field) and its parameters for the preset."""
        body = TaskSubmitRequestSerializer(data=request.data, context={"request": request, "kind": kind})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            params = validate_params(kind, data.get("params"), data["preset"])
        except ValidationError as exc:
            raise ValidationError({"params": exc.detail}) from exc
        return body, data, params

    @extend_schema(
        request=TaskSubmitRequestSerializer,
        responses={201: TaskSubmitResponseSerializer},
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=SIMULATION_KINDS)],
    )
    def post(self, request, kind):
        body, data, params = self.validated(request, kind)
        check_quota(request.user)
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


class TaskEstimate(TaskSubmit):
    """POST the body of a submit to ``tasks/{type}/estimate/``: how long the task would take and
    how many tasks are ahead of it (nothing is created; see ``tasks_app.eta``)."""

    @extend_schema(
        request=TaskSubmitRequestSerializer,
        responses={200: OpenApiTypes.OBJECT},
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=SIMULATION_KINDS)],
    )
    def post(self, request, kind):
        _body, data, params = self.validated(request, kind)
        estimate = eta.estimate(kind=kind, model=data.get("model"), structures=[data.get("structure")],
                                params=params, priority=data["priority"])  # fmt: skip
        return Response(estimate.as_dict())


class TaskList(generics.ListAPIView):
    serializer_class = TaskSerializer
    pagination_class = NewestFirstPagination  # cursor links; ?page=N still pages by number
    filter_backends = [DjangoFilterBackend]
    filterset_class = TaskFilterSet

    def get_queryset(self):
        return visible_tasks(self.request.user).order_by("-created_at")


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
        original = get_task(request, pk)
        check_quota(request.user)
        error = priority_error(request.user, original.priority) or time_limit_error(request.user, original.time_limit_s)
        if error:  # a staff-granted priority or limit is not inherited by a normal user's re-run
            raise ValidationError({"detail": error})
        try:
            task = resubmit_task(original, request.user)
        except IllegalTransition as exc:
            raise Conflict(f"cannot re-run: {exc.target}") from exc
        return Response(TaskDetailSerializer(task, context={"request": request}).data, status=status.HTTP_201_CREATED)


class TaskLogs(generics.ListAPIView):
    serializer_class = TaskLogLineSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = LogLineFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reads the model (and filters) without a task
            return TaskLogLine.objects.none()
        return get_task(self.request, self.kwargs["pk"]).log_lines.order_by("id")


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


class TaskArtifactDownload(APIView):
    @extend_schema(operation_id="tasks_artifact_download", responses={(200, "application/octet-stream"): BINARY})
    def get(self, request, pk, name):
        return artifact_response(get_task(request, pk), name)
