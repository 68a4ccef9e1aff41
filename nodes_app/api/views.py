"""Node API: heartbeats (node-token auth), pool listing, operator enable/disable."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from nodes_app import commands
from nodes_app.api.serializers import HeartbeatSerializer, WorkerNodeSerializer
from nodes_app.authentication import IsNode, NodeTokenAuthentication
from nodes_app.models import NodeCommand, WorkerNode
from nodes_app.services import record_heartbeat, set_enabled

HEARTBEAT_REPLY = inline_serializer(
    "HeartbeatReply", {"status": serializers.CharField(), "enabled": serializers.BooleanField()}
)


class Heartbeat(APIView):
    """``POST /api/v1/nodes/heartbeat`` with ``Authorization: Node <token>`` (node tokens only)."""

    authentication_classes = [NodeTokenAuthentication]
    permission_classes = [IsNode]

    @extend_schema(request=HeartbeatSerializer, responses=HEARTBEAT_REPLY)
    def post(self, request):
        body = HeartbeatSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        facts = {k: v for k, v in body.validated_data.items() if k != "name"}
        node = record_heartbeat(request.auth, facts)
        return Response({"status": node.status, "enabled": node.enabled})


class NodeList(generics.ListAPIView):
    serializer_class = WorkerNodeSerializer
    queryset = WorkerNode.objects.order_by("name")


class NodeToggle(APIView):
    permission_classes = [IsAdminUser]
    enable = True

    @extend_schema(request=None, responses=WorkerNodeSerializer)
    def post(self, request, pk):
        node = set_enabled(get_object_or_404(WorkerNode, pk=pk), self.enable)
        return Response(WorkerNodeSerializer(node).data)


class ModelCommandSerializer(serializers.Serializer):
    nodes = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=1000,
        help_text="node names; default every online, enabled node",
    )  # fmt: skip


class NodeCommandSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node.name")
    model = serializers.CharField(source="model_name")

    class Meta:
        model = NodeCommand
        fields = ["id", "node", "action", "model", "state", "message", "created_at", "finished_at"]


class ModelCommand(APIView):
    """``POST /api/v1/models/{name}/load`` or ``/unload`` (staff): the nodes' workers act within a heartbeat."""

    permission_classes = [IsAdminUser]
    action = NodeCommand.Action.LOAD

    @extend_schema(request=ModelCommandSerializer, responses={202: NodeCommandSerializer(many=True)})
    def post(self, request, name):
        body = ModelCommandSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            created = commands.request(self.action, name, body.validated_data.get("nodes"), request.user)
        except commands.CommandError as exc:
            raise ValidationError({"detail": [str(exc)]}) from exc
        rows = NodeCommand.objects.filter(pk__in=[c.pk for c in created]).select_related("node")
        return Response(NodeCommandSerializer(rows, many=True).data, status=202)


class NodeCommandList(generics.ListAPIView):
    """Recent load/unload commands and how they ended (staff)."""

    permission_classes = [IsAdminUser]
    serializer_class = NodeCommandSerializer
    queryset = NodeCommand.objects.select_related("node").order_by("-created_at")
