"""Node API: heartbeats (node-token auth), pool listing, operator enable/disable."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from nodes_app.api.serializers import HeartbeatSerializer, WorkerNodeSerializer
from nodes_app.authentication import IsNode, NodeTokenAuthentication
from nodes_app.models import WorkerNode
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
