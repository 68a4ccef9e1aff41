from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from mofsim_site.files import UploadTooLarge
from structures_app.api.serializers import StructureSerializer, StructureSetSerializer, StructureUploadSerializer
from structures_app.filtersets import StructureFilterSet
from structures_app.models import Structure, StructureSet
from structures_app.parsers import StructureError
from structures_app.services import store_uploaded_file


def visible_structures(user):
    return Structure.objects.visible_to(user)


class StructureListUpload(generics.ListCreateAPIView):
    """GET lists your structures and the built-in ones; POST (multipart ``file``) uploads one."""

    serializer_class = StructureSerializer
    parser_classes = [MultiPartParser, FormParser]

    filter_backends = [DjangoFilterBackend]
    filterset_class = StructureFilterSet

    def get_queryset(self):
        return visible_structures(self.request.user).order_by("name", "id")

    @extend_schema(request={"multipart/form-data": StructureUploadSerializer}, responses={201: StructureSerializer})
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        body = StructureUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            structure = store_uploaded_file(body.validated_data["file"], request.user, body.validated_data.get("name"))
        except (StructureError, UploadTooLarge) as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        return Response(StructureSerializer(structure).data, status=status.HTTP_201_CREATED)


class StructureDetail(generics.RetrieveAPIView):
    serializer_class = StructureSerializer

    def get_queryset(self):
        return visible_structures(self.request.user)


class StructureSetList(generics.ListAPIView):
    serializer_class = StructureSetSerializer

    def get_queryset(self):
        return StructureSet.objects.visible_to(self.request.user).order_by("slug")
