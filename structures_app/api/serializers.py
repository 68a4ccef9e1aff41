from rest_framework import serializers

from structures_app.models import Structure, StructureSet


class StructureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Structure
        fields = [
            "id",
            "name",
            "source",
            "file_format",
            "sha256",
            "size_bytes",
            "formula",
            "n_atoms",
            "volume",
            "periodic",
            "elements",
            "cell_lengths",
            "cell_angles",
            "reference",
            "created_at",
        ]


class StructureUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    name = serializers.CharField(max_length=200, required=False)


class StructureSetSerializer(serializers.ModelSerializer):
    n_structures = serializers.IntegerField(source="structures.count", read_only=True)

    class Meta:
        model = StructureSet
        fields = ["id", "slug", "description", "builtin", "n_structures", "created_at"]
