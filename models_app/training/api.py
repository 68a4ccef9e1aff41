"""Training jobs API: submit, list, artifacts (node upload / user download), signed data download.

Jobs are ordinary tasks (kinds ``train_dms`` / ``train_mace``): same queue, states, priorities,
cancel endpoint and live pages. Two endpoints are not for users: ``POST jobs/{id}/artifacts``
authenticates a *node* (``Authorization: Node <token>`` + ``X-Node-Name``) and
``GET jobs/data/{token}`` is authorised by its signed, expiring token alone.
"""

import logging

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from models_app.models import TrainingDataset
from models_app.training.dispatch import unsign
from models_app.training.server import (
    KINDS,
    build_job_params,
    register_datasets,
    register_trained_model,
    store_artifact,
)
from mofsim_site.api.errors import Conflict
from nodes_app.authentication import NodeTokenAuthentication
from nodes_app.models import WorkerNode
from tasks_app.api.serializers import PriorityField, TaskArtifactSerializer, TaskDetailSerializer, TaskSerializer
from tasks_app.archive import artifact_response
from tasks_app.choices import Priority, TaskStatus
from tasks_app.models import Task
from tasks_app.params import PRESET_CHOICES
from tasks_app.policy import MAX_TIME_LIMIT_S, SubmissionPolicyMixin, check_quota
from tasks_app.services import enqueue_task

logger = logging.getLogger(__name__)


class JobSubmitSerializer(SubmissionPolicyMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS, default="train_dms")
    data_path = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    dataset = serializers.UUIDField(required=False, allow_null=True, help_text="instead of data_path")
    wild_type = serializers.CharField(required=False, allow_blank=True, max_length=1000, help_text="FASTA id or path")
    epochs = serializers.IntegerField(required=False, min_value=1)
    lr = serializers.FloatField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    plan = serializers.JSONField(required=False, help_text='e.g. {"train.lr": 1e-3, "split.strategy": "contiguous"}')
    params = serializers.JSONField(required=False, help_text="further parameters of the job kind")
    preset = serializers.ChoiceField(choices=PRESET_CHOICES, default="protocol")
    priority = PriorityField(required=False, default=Priority.NORMAL)
    time_limit_s = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_TIME_LIMIT_S)

    def validate(self, attrs):
        if not attrs.get("data_path") and not attrs.get("dataset"):
            raise serializers.ValidationError({"data_path": ["give data_path or dataset"]})
        if attrs.get("params") is not None and not isinstance(attrs["params"], dict):
            raise serializers.ValidationError({"params": ["must be a JSON object"]})
        return attrs


def training_tasks(user):
    return Task.objects.visible_to(user).select_related("structure", "model", "node").filter(kind__in=KINDS)


class JobList(generics.ListAPIView):
    """``GET`` your training jobs; ``POST`` submits one (a task of kind train_dms / train_mace)."""

    serializer_class = TaskSerializer

    def get_queryset(self):
        return training_tasks(self.request.user).order_by("-created_at")

    @extend_schema(request=JobSubmitSerializer, responses={201: TaskDetailSerializer})
    def post(self, request):
        body = JobSubmitSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        kind = data["kind"]
        request_body = {
            **(data.get("params") or {}),
            "data": str(data["dataset"]) if data.get("dataset") else data.get("data_path"),
            "wild_type": data.get("wild_type"),
            "epochs": data.get("epochs"),
            "lr": data.get("lr"),
            "notes": data.get("notes"),
            "plan": data.get("plan"),
        }
        extra = set(data.get("params") or {}) & {"data", "wild_type", "plan"}
        if extra:
            raise ValidationError({"params": [f"{', '.join(sorted(extra))} go at the top level"]})
        params, datasets = build_job_params(kind, request_body, request.user, data["preset"])
        check_quota(request.user)
        with transaction.atomic():
            register_datasets(datasets)
            task = enqueue_task(
                owner=request.user,
                kind=kind,
                params=params,
                priority=data["priority"],
                time_limit_s=data.get("time_limit_s"),
            )
        out = TaskDetailSerializer(task, context={"request": request}).data
        return Response(out, status=status.HTTP_201_CREATED)


class JobDetail(generics.RetrieveAPIView):
    serializer_class = TaskDetailSerializer

    def get_object(self):
        task = training_tasks(self.request.user).filter(pk=self.kwargs["pk"]).first()
        if task is None:
            raise NotFound("no such job")
        return task


class NodeOnPostUserOnGet(BasePermission):
    def has_permission(self, request, view):
        if request.method == "POST":
            return isinstance(request.auth, WorkerNode)
        return bool(request.user and request.user.is_authenticated)


BINARY = OpenApiTypes.BINARY
ARTIFACT_UPLOAD = inline_serializer(
    "ArtifactUpload", {"file": serializers.FileField(), "sha256": serializers.CharField(required=False)}
)


class JobArtifacts(APIView):
    """``GET`` lists a job's artifacts (owner/staff); ``POST`` (a node) uploads one file.

    Upload: multipart ``file`` + ``sha256``; the job must be RUNNING and claimed by this node,
    and ``X-Mofsim-Lease`` must carry the running attempt's lease token (a stale attempt's files
    are refused, so attempts never mix). Uploading ``model.model`` of a ``train_mace`` job
    registers the model as pending: the service worker converts it in the sandbox before
    anything can use it.
    """

    authentication_classes = [NodeTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    permission_classes = [NodeOnPostUserOnGet]

    @extend_schema(responses=TaskArtifactSerializer(many=True))
    def get(self, request, pk):
        task = training_tasks(request.user).filter(pk=pk).first()
        if task is None:
            raise NotFound("no such job")
        rows = task.artifacts.order_by("name")
        return Response(TaskArtifactSerializer(rows, many=True, context={"request": request}).data)

    @extend_schema(request={"multipart/form-data": ARTIFACT_UPLOAD}, responses={201: TaskArtifactSerializer})
    def post(self, request, pk):
        node: WorkerNode = request.auth
        task = Task.objects.filter(pk=pk).first()  # any task: remote workers upload results this way
        if task is None:
            raise NotFound("no such job")
        if task.node_id != node.pk:
            raise PermissionDenied(f"job is not assigned to node {node.name}")
        if task.status != TaskStatus.RUNNING:
            raise Conflict(f"job is {task.status}; artifacts are accepted only while it runs")
        if request.headers.get("X-Mofsim-Lease", "") != str(task.lease_token):
            raise Conflict("this attempt no longer holds the job (X-Mofsim-Lease does not match); file refused")
        uploaded = request.FILES.get("file")
        if uploaded is None:
            raise ValidationError({"file": ["a file is required (multipart field 'file')"]})
        artifact = store_artifact(task, uploaded, request.data.get("sha256") or None)
        body = {**TaskArtifactSerializer(artifact, context={"request": request}).data}
        if task.kind == "train_mace" and artifact.name == "model.model":
            body["registered_model"] = register_trained_model(task, settings.WORKDIR / artifact.path, defer=True)
        logger.info("node %s uploaded %s for job %s", node.name, artifact.name, task.pk)
        return Response(body, status=status.HTTP_201_CREATED)


class JobArtifactDownload(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="jobs_artifact_download", responses={(200, "application/octet-stream"): BINARY})
    def get(self, request, pk, name):
        task = training_tasks(request.user).filter(pk=pk).first()
        if task is None:
            raise NotFound("no such job")
        return artifact_response(task, name)


class JobData(APIView):
    """A job's input dataset, for the worker running it; the signed token is the credential."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(auth=[], responses={(200, "application/octet-stream"): BINARY})
    def get(self, request, token):

        try:
            claims = unsign(token)
        except signing.SignatureExpired as exc:
            raise PermissionDenied("data URL has expired") from exc
        except signing.BadSignature as exc:
            raise PermissionDenied("bad data URL signature") from exc
        task = Task.objects.filter(pk=claims["t"]).first()
        if task is None or task.status not in (TaskStatus.ASSIGNED, TaskStatus.RUNNING):
            raise PermissionDenied("the job this URL was issued for is not running")
        refs = [ref for ref in (task.params.get("data") or {}).values() if ref]
        if claims["d"] not in {ref["dataset"] for ref in refs}:
            raise PermissionDenied("this dataset is not an input of the job")
        dataset = TrainingDataset.objects.filter(pk=claims["d"]).first()
        if dataset is None:
            raise NotFound("dataset no longer exists")
        path = dataset.absolute_path.resolve()
        if not path.is_relative_to(settings.WORKDIR):
            raise NotFound("dataset file is outside WORKDIR")
        return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name)
