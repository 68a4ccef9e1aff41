from rest_framework import serializers

from models_app.models import MLModel


class MLModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = MLModel
        fields = [
            "id",
            "name",
            "family",
            "source",
            "description",
            "config",
            "sha256",
            "size_bytes",
            "validation_status",
            "validation_message",
            "is_default",
            "enabled",
            "created_at",
        ]
