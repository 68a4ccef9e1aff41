"""Node API: heartbeats (node-token auth), pool listing, operator enable/disable."""

import logging

from django.shortcuts import get_object_or_404
from rest_framework import generics
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from nodes_app.api.serializers import HeartbeatSerializer, WorkerNodeSerializer
from nodes_app.models import WorkerNode
from nodes_app.services import BadNodeToken, authenticate_node, record_heartbeat, set_enabled

logger = logging.getLogger(__name__)


class Heartbeat(APIView):
    """``POST /api/v1/nodes/heartbeat`` with ``Authorization: Node <token>``."""

    authentication_classes = []  # node tokens are not user credentials
    permission_classes = [AllowAny]

    def post(self, request):
        body = HeartbeatSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Node" or not token:
            logger.warning("heartbeat without a node token from %s", request.META.get("REMOTE_ADDR"))
            raise AuthenticationFailed("missing 'Authorization: Node <token>' header")
        try:
            node = authenticate_node(body.validated_data["name"], token.strip())
        except BadNodeToken as exc:
            raise AuthenticationFailed("bad node name or token") from exc
        facts = {k: v for k, v in body.validated_data.items() if k != "name"}
        node = record_heartbeat(node, facts)
        return Response({"status": node.status, "enabled": node.enabled})


class NodeList(generics.ListAPIView):
    serializer_class = WorkerNodeSerializer
    queryset = WorkerNode.objects.order_by("name")


class NodeToggle(APIView):
    permission_classes = [IsAdminUser]
    enable = True

    def post(self, request, pk):
        node = set_enabled(get_object_or_404(WorkerNode, pk=pk), self.enable)
        return Response(WorkerNodeSerializer(node).data)
