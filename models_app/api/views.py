from rest_framework import generics

from models_app.api.serializers import MLModelSerializer
from models_app.models import MLModel


class ModelList(generics.ListAPIView):
    serializer_class = MLModelSerializer
    queryset = MLModel.objects.filter(enabled=True).order_by("name")


class ModelDetail(generics.RetrieveAPIView):
    serializer_class = MLModelSerializer
    queryset = MLModel.objects.order_by("name")
    lookup_field = "name"
