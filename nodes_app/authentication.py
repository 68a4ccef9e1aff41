"""DRF authentication for worker nodes: ``Authorization: Node <token>`` plus the node's name.

The name comes from ``X-Node-Name`` (or a ``name`` field in the body, as heartbeats send it).
A successful authentication yields ``request.user = AnonymousUser`` and ``request.auth = node``,
so a node token can never act as a researcher. Failures are 401 with a ``WWW-Authenticate:
Node`` challenge, and logged.
"""

import logging

from django.contrib.auth.models import AnonymousUser
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from nodes_app.models import WorkerNode
from nodes_app.services import BadNodeToken, authenticate_node

logger = logging.getLogger(__name__)


class NodeTokenAuthentication(BaseAuthentication):
    keyword = "Node"

    def authenticate(self, request):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != self.keyword:
            return None
        name = request.headers.get("X-Node-Name") or (request.data.get("name") if hasattr(request, "data") else None)
        if not token.strip() or not name:
            logger.warning("node request without token or name from %s", request.META.get("REMOTE_ADDR"))
            raise AuthenticationFailed("a node request needs 'Authorization: Node <token>' and the node name")
        try:
            node = authenticate_node(str(name), token.strip())
        except BadNodeToken as exc:
            raise AuthenticationFailed("bad node name or token") from exc
        return AnonymousUser(), node

    def authenticate_header(self, request):
        return 'Node realm="mofsim"'


class IsNode(BasePermission):
    """Allows only requests authenticated by a node token."""

    def has_permission(self, request, view):

        return isinstance(request.auth, WorkerNode)
