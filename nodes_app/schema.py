"""OpenAPI description of node-token authentication (``Authorization: Node <token>``)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class NodeTokenScheme(OpenApiAuthenticationExtension):
    target_class = "nodes_app.authentication.NodeTokenAuthentication"
    name = "nodeToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Worker nodes: 'Node <token>' plus the node's name in X-Node-Name (or the body's name).",
        }
