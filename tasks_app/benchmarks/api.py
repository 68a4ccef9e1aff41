"""Benchmark runs API: create, list, detail with report, CSV/JSON downloads, comparison.

Visibility is owner-only (staff see all); someone else's run is a 404, never a 403, so run ids
do not leak. Bad input is a 400 naming the field (``kind``, ``model``, ``structure_set``,
``structures``, ``params``, ``preset``, ``runs``, ``notes``, ``tags``). ``PATCH`` on a run writes
its notes and tags only (the same rule as the run page's form).
"""

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from models_app.models import MLModel
from mofsim_site.tags import TagError, parse_tags
from tasks_app.api.serializers import PriorityField
from tasks_app.benchmarks import collect, table
from tasks_app.benchmarks.filtersets import BenchmarkRunFilterSet
from tasks_app.benchmarks.services import (
    ComparisonError,
    annotated_runs,
    comparison,
    create_benchmark_run,
    estimate_benchmark_run,
    parse_run_ids,
    resolve_set,
    resolve_structure_ids,
    save_notes,
    visible_runs,
)
from tasks_app.choices import Priority
from tasks_app.models import BenchmarkRun
from tasks_app.params import PRESET_CHOICES
from tasks_app.policy import MAX_TIME_LIMIT_S, SubmissionPolicyMixin, check_quota


class BenchmarkCreateSerializer(SubmissionPolicyMixin, serializers.Serializer):
    kind = serializers.CharField(help_text="task type, e.g. optimization")
    model = serializers.SlugRelatedField(
        slug_field="name", queryset=MLModel.objects.filter(enabled=True), required=False, allow_null=True
    )
    structure_set = serializers.SlugField(required=False, help_text="essential, main_set, hcmof, copper or your own")
    structures = serializers.ListField(child=serializers.IntegerField(), required=False, allow_empty=False)
    preset = serializers.ChoiceField(choices=PRESET_CHOICES, default="protocol")
    params = serializers.JSONField(required=False, default=dict)
    priority = PriorityField(required=False, default=Priority.NORMAL)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    time_limit_s = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_TIME_LIMIT_S)

    def validate(self, attrs):
        if ("structure_set" in attrs) == ("structures" in attrs):
            raise ValidationError({"structure_set": ["give exactly one of structure_set or structures"]})
        if attrs.get("model") is None:
            attrs["model"] = MLModel.objects.filter(is_default=True, enabled=True).first()
            if attrs["model"] is None:
                raise ValidationError({"model": ["no model given and no default model registered"]})
        return attrs


class BenchmarkRunSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    model = serializers.SlugRelatedField(slug_field="name", read_only=True)
    structure_set = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    n_tasks = serializers.IntegerField(read_only=True)
    n_finished = serializers.IntegerField(read_only=True)
    n_completed = serializers.IntegerField(read_only=True)
    n_failed = serializers.IntegerField(read_only=True)

    class Meta:
        model = BenchmarkRun
        fields = [
            "id",
            "url",
            "name",
            "kind",
            "model",
            "structure_set",
            "preset",
            "params",
            "notes",
            "tags",
            "owner",
            "created_at",
            "n_tasks",
            "n_finished",
            "n_completed",
            "n_failed",
        ]

    def get_url(self, obj) -> str:
        return reverse("api:benchmark-detail", kwargs={"pk": obj.pk}, request=self.context.get("request"))


class BenchmarkNotesSerializer(serializers.Serializer):
    """What a PATCH may change: the owner's notes and tags (a list of strings, or one string)."""

    notes = serializers.CharField(max_length=10_000, allow_blank=True, required=False)
    tags = serializers.JSONField(required=False, help_text='e.g. ["mof-5", "d3"]')

    def validate_tags(self, value):
        if not isinstance(value, str | list):
            raise ValidationError("a list of tags (or one comma-separated string)")
        try:
            return parse_tags(value)
        except TagError as exc:
            raise ValidationError(str(exc)) from exc

    def validate(self, attrs):
        if not attrs:
            raise ValidationError({"notes": ["give notes or tags (nothing else can be changed)"]})
        return attrs


def report_body(run: BenchmarkRun, request) -> dict:
    body = collect.public(collect.build_report(run))
    body["run"]["url"] = reverse("api:benchmark-detail", kwargs={"pk": run.pk}, request=request)
    body["run"]["report_csv"] = reverse("api:benchmark-report-csv", kwargs={"pk": run.pk}, request=request)
    body["run"]["report_json"] = reverse("api:benchmark-report-json", kwargs={"pk": run.pk}, request=request)
    return body


def get_run(request, pk) -> BenchmarkRun:
    return get_object_or_404(visible_runs(request.user), pk=pk)


class BenchmarkListCreate(generics.ListAPIView):
    """GET: your benchmark runs with task counts. POST: start a run (one task per structure)."""

    serializer_class = BenchmarkRunSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = BenchmarkRunFilterSet

    def get_queryset(self):
        return annotated_runs(self.request.user).order_by("-created_at")

    @extend_schema(request=BenchmarkCreateSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request):
        body = BenchmarkCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request.user
        structure_set = resolve_set(user, data["structure_set"]) if "structure_set" in data else None
        structures = resolve_structure_ids(user, data["structures"]) if "structures" in data else None
        check_quota(user, len(structures) if structures is not None else structure_set.structures.count())
        run = create_benchmark_run(
            owner=user,
            kind=data["kind"],
            model=data["model"],
            structure_set=structure_set,
            structures=structures,
            preset=data["preset"],
            params=data.get("params"),
            priority=data["priority"],
            name=data["name"],
            time_limit_s=data.get("time_limit_s"),
        )
        return Response(report_body(run, request), status=status.HTTP_201_CREATED)


class BenchmarkEstimate(APIView):
    """POST the body of a new run: how long it would take and how many tasks are ahead (nothing
    is created; ``tasks_app.eta`` says how the numbers are made and from how many samples)."""

    @extend_schema(request=BenchmarkCreateSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request):
        body = BenchmarkCreateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = request.user
        estimate = estimate_benchmark_run(
            owner=user,
            kind=data["kind"],
            model=data["model"],
            structure_set=resolve_set(user, data["structure_set"]) if "structure_set" in data else None,
            structures=resolve_structure_ids(user, data["structures"]) if "structures" in data else None,
            preset=data["preset"],
            params=data.get("params"),
            priority=data["priority"],
        )
        return Response(estimate.as_dict())


class BenchmarkDetail(APIView):
    """GET: the run, its summary metrics against DFT and one row per structure. PATCH: its notes/tags."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        return Response(report_body(get_run(request, pk), request))

    @extend_schema(request=BenchmarkNotesSerializer, responses={200: OpenApiTypes.OBJECT})
    def patch(self, request, pk):
        run = get_run(request, pk)
        body = BenchmarkNotesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        save_notes(run, **body.validated_data)
        return Response(report_body(run, request))


class BenchmarkReportCSV(APIView):
    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    def get(self, request, pk):
        run = get_run(request, pk)
        data = collect.build_report(run)
        response = HttpResponse(table.csv_text(data["rows"], run.kind), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="benchmark-{str(run.pk)[:8]}-{run.kind}.csv"'
        return response


class BenchmarkReportJSON(APIView):
    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, pk):
        run = get_run(request, pk)
        response = JsonResponse(report_body(run, request), json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'attachment; filename="benchmark-{str(run.pk)[:8]}-{run.kind}.json"'
        return response


class BenchmarkCompare(APIView):
    """``?runs=<id>,<id>``: several models on the same structures, per structure and summary."""

    @extend_schema(
        parameters=[OpenApiParameter("runs", str, required=True, description="comma-separated run ids (≥ 2)")],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        try:
            data = comparison(request.user, parse_run_ids(request.query_params.get("runs", "")))
        except ComparisonError as exc:
            if exc.missing:
                raise NotFound(str(exc))
            raise ValidationError({"runs": [str(exc)]})
        return Response({k: v for k, v in data.items() if not k.startswith("_")})
