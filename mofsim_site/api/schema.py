"""OpenAPI descriptions for mofsim's own auth classes: the same schemes and bodies as the
simplejwt/DRF classes they extend (drf-spectacular matches extensions by exact class)."""

from drf_spectacular.authentication import TokenScheme
from drf_spectacular.contrib.rest_framework_simplejwt import (
    SimpleJWTScheme,
    TokenObtainPairSerializerExtension,
    TokenRefreshSerializerExtension,
)


class VersionedJWTScheme(SimpleJWTScheme):
    target_class = "mofsim_site.credentials.VersionedJWTAuthentication"


class PersonalTokenScheme(TokenScheme):
    target_class = "mofsim_site.credentials.PersonalTokenAuthentication"


class LoginSerializerExtension(TokenObtainPairSerializerExtension):
    target_class = "mofsim_site.credentials.LoginSerializer"


class RefreshSerializerExtension(TokenRefreshSerializerExtension):
    target_class = "mofsim_site.credentials.RefreshSerializer"
