"""OpenAPI: every operation documents the error shape for the statuses it can answer.

``ErrorAutoSchema`` (``DEFAULT_SCHEMA_CLASS``) adds an ``Error`` response for 400, 401, 403,
404 and 429 to every operation, 409 to operations that change state and 413 to operations with
a request body, unless a view already documents that status with a body. Views keep declaring
their success bodies (and multipart uploads) with ``extend_schema`` as before.

The auth extensions below describe mofsim's own auth classes with the same schemes and bodies as
the simplejwt/DRF classes they extend (drf-spectacular matches extensions by exact class).
"""

from drf_spectacular.authentication import TokenScheme
from drf_spectacular.contrib.rest_framework_simplejwt import (
    SimpleJWTScheme,
    TokenObtainPairSerializerExtension,
    TokenRefreshSerializerExtension,
)
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    "400": "invalid input; details name the fields",
    "401": "not authenticated",
    "403": "not allowed",
    "404": "no such object (or not yours)",
    "409": "conflicts with the object's current state",
    "413": "request body over the endpoint's limit",
    "429": "throttled or over the active-task quota",
}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="machine-readable, e.g. invalid, not_found, too_large, quota_exceeded")
    message = serializers.CharField(help_text="one line for humans, naming the field or limit")
    details = serializers.JSONField(help_text="per-field errors (at most 20 entries per level)")
    request_id = serializers.CharField(allow_null=True, help_text="also in the X-Request-ID header")

    class Meta:
        ref_name = "Error"


class ErrorAutoSchema(AutoSchema):
    def _error_statuses(self) -> list[str]:
        statuses = ["400", "401", "403", "404", "429"]
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            statuses += ["409", "413"]
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self._error_statuses():
            if "content" in responses.get(status, {}):
                continue
            response = self._get_response_for_code(ErrorSerializer, status, direction=direction)
            response["description"] = responses.get(status, {}).get("description") or ERROR_DESCRIPTIONS[status]
            responses[status] = response
        return responses


class VersionedJWTScheme(SimpleJWTScheme):
    target_class = "mofsim_site.credentials.VersionedJWTAuthentication"


class PersonalTokenScheme(TokenScheme):
    target_class = "mofsim_site.credentials.PersonalTokenAuthentication"


class LoginSerializerExtension(TokenObtainPairSerializerExtension):
    target_class = "mofsim_site.credentials.LoginSerializer"


class RefreshSerializerExtension(TokenRefreshSerializerExtension):
    target_class = "mofsim_site.credentials.RefreshSerializer"
