"""Training dataset API: upload (multipart, size-limited, validated), SQLite import, list, get, download."""

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from models_app.datasets import DatasetError
from models_app.datasets.store import import_sqlite, store_uploaded
from models_app.filtersets import DatasetFilterSet
from models_app.models import TrainingDataset
from mofsim_site.api.errors import error_response
from mofsim_site.api.parsers import loads
from mofsim_site.files import UploadTooLarge


def visible_datasets(user):
    return TrainingDataset.objects.visible_to(user).select_related("owner")


class TrainingDatasetSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TrainingDataset
        fields = [
            "id",
            "url",
            "name",
            "owner",
            "project",
            "kind",
            "file_format",
            "path",
            "sha256",
            "size_bytes",
            "n_records",
            "summary",
            "description",
            "created_at",
        ]

    def get_url(self, obj) -> str:
        return reverse("api:dataset-detail", kwargs={"pk": obj.pk}, request=self.context.get("request"))


class UploadForm(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=200, allow_blank=True)
    project = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class DatasetUploadSerializer(UploadForm):
    """The multipart body of ``POST /api/v1/datasets/`` (for the schema; the view reads it in parts)."""

    file = serializers.FileField(help_text="FASTA, CSV/TSV (DMS) or extXYZ with energies and forces")


class DatasetList(generics.ListCreateAPIView):
    """``GET`` your datasets; ``POST`` multipart ``file`` (+ ``name``, ``project``, ``description``)."""

    serializer_class = TrainingDatasetSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = DatasetFilterSet

    def get_queryset(self):
        return visible_datasets(self.request.user).order_by("-created_at")

    @extend_schema(request={"multipart/form-data": DatasetUploadSerializer}, responses={201: TrainingDatasetSerializer})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        uploaded = request.FILES.get("file")  # past the size limit: a 413 from BodyLimitMiddleware
        if uploaded is None:
            raise ValidationError({"file": ["a file is required (multipart field 'file')"]})
        form = UploadForm(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            dataset = store_uploaded(uploaded, request.user, **{k: v for k, v in form.validated_data.items() if v})
        except UploadTooLarge as exc:
            return error_response("too_large", f"file: {exc}", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, request)
        except DatasetError as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        body = TrainingDatasetSerializer(dataset, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class DatasetDetail(generics.RetrieveAPIView):
    serializer_class = TrainingDatasetSerializer

    def get_object(self):
        return get_object_or_404(visible_datasets(self.request.user), pk=self.kwargs["pk"])


class DatasetDownload(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk):
        dataset = get_object_or_404(visible_datasets(request.user), pk=pk)
        return FileResponse(open(dataset.absolute_path, "rb"), as_attachment=True, filename=dataset.path.split("/")[-1])


SQLITE_IMPORT = inline_serializer(
    "SqliteImport",
    {
        "file": serializers.FileField(),
        "filter": serializers.CharField(help_text="JSON list of {field, op, value}"),
        "name": serializers.CharField(required=False),
        "project": serializers.CharField(required=False),
    },
)


class DatasetImportSqlite(APIView):
    """``POST`` multipart ``file`` (SQLite) + ``filter`` (JSON list of {field, op, value}) + ``name``."""

    @extend_schema(request={"multipart/form-data": SQLITE_IMPORT}, responses={201: TrainingDatasetSerializer})
    def post(self, request):
        uploaded = request.FILES.get("file")  # past the size limit: a 413 from BodyLimitMiddleware
        if uploaded is None:
            raise ValidationError({"file": ["an SQLite file is required (multipart field 'file')"]})
        raw = request.data.get("filter", "[]")
        try:
            conditions = loads(raw) if isinstance(raw, str) else raw
        except ParseError as exc:
            raise ValidationError({"filter": [str(exc.detail)]}) from exc
        form = UploadForm(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            dataset = import_sqlite(
                uploaded,
                request.user,
                conditions,
                name=form.validated_data.get("name") or None,
                project=form.validated_data.get("project"),
            )
        except UploadTooLarge as exc:
            return error_response("too_large", f"file: {exc}", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, request)
        except DatasetError as exc:
            field = "filter" if str(exc).startswith("filter") else "file"
            raise ValidationError({field: [str(exc)]}) from exc
        body = TrainingDatasetSerializer(dataset, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)
