"""Model registry API: everyone lists; staff upload model files (converted and verified later by a worker)."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from models_app.api.serializers import MLModelSerializer
from models_app.choices import ModelFamily
from models_app.models import MLModel
from models_app.services import ModelFileError, accept_model_upload


class ReadOrStaffWrite(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and (request.method in SAFE_METHODS or user.is_staff))


class ModelUploadSerializer(serializers.Serializer):
    name = serializers.SlugField(max_length=100)
    family = serializers.ChoiceField(choices=[ModelFamily.MACE])  # the families with a converter (validation.py)
    file = serializers.FileField()
    default_dtype = serializers.ChoiceField(choices=["float32", "float64"], default="float64")
    description = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ModelList(generics.ListCreateAPIView):
    """GET: the registry. POST (staff, multipart): upload a MACE model file; a worker converts it
    to a pickle-free file in a sandbox and verifies it before tasks can use it."""

    serializer_class = MLModelSerializer
    queryset = MLModel.objects.filter(enabled=True).order_by("name")
    permission_classes = [ReadOrStaffWrite]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": ModelUploadSerializer}, responses={202: MLModelSerializer})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        body = ModelUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            model = accept_model_upload(
                name=data["name"], family=data["family"], uploaded=data["file"], owner=request.user,
                config={"default_dtype": data["default_dtype"]}, description=data.get("description", ""),
            )  # fmt: skip
        except ModelFileError as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        return Response(MLModelSerializer(model).data, status=status.HTTP_202_ACCEPTED)


class ModelDetail(generics.RetrieveAPIView):
    serializer_class = MLModelSerializer
    queryset = MLModel.objects.order_by("name")
    lookup_field = "name"
