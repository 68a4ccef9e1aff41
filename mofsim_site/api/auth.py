"""JWT login/refresh/logout (access 15 min, refresh 7 days, rotated; see settings.SIMPLE_JWT),
throttled; personal tokens (stored hashed, mofsim_site.models.PersonalToken)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from mofsim_site.credentials import VersionedJWTAuthentication
from mofsim_site.models import PersonalToken


class LoginView(TokenObtainPairView):
    """JWT login. django-axes counts failures here as on the login pages (settings, "Auth")."""

    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def handle_exception(self, exc):
        # axes flags the DRF request it was given (its middleware only sees the Django request),
        # and authenticate() turned the lockout into "wrong credentials": say what it was.
        if getattr(self.request, "axes_locked_out", False):
            exc = Throttled(detail="too many failed logins from this address or for this user; try again later")
        return super().handle_exception(exc)


class RefreshView(TokenRefreshView):
    """Returns a new access token *and* a new refresh token; the one sent is blacklisted."""

    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"


class LogoutView(TokenBlacklistView):
    """``POST {"refresh": …}`` blacklists that refresh token (the access token expires in 15 min)."""

    permission_classes = [AllowAny]


class PersonalTokenView(APIView):
    """A long-lived personal API token for scripts (``Authorization: Token <key>``).

    ``POST`` creates or rotates it (the old key stops working) and shows the key once — only its
    SHA-256 is stored; ``DELETE`` revokes it. Needs a logged-in user (session or JWT), never the
    token itself, so a leaked token cannot mint a new one.
    """

    authentication_classes = [VersionedJWTAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=inline_serializer("PersonalTokenReply", {"token": serializers.CharField()}))
    def post(self, request):
        return Response({"token": PersonalToken.issue(request.user)}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        PersonalToken.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
