"""Every credential a user holds dies with a password change (issue 10, finding 5).

JWTs carry ``cv``, a credentials version derived from the password hash (Django's session
auth hash: an HMAC, so it reveals nothing about the password). ``VersionedJWTAuthentication`` and
the refresh serializer reject a token whose ``cv`` no longer matches, so access tokens already
issued stop working at once. On top of that a password change blacklists the user's
outstanding refresh tokens and deletes the personal API token — the same way Django ends the
user's other sessions.
"""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from mofsim_site.models import PersonalToken, token_digest

CLAIM = "cv"
STALE = "token was issued before the password changed; log in again"


def credentials_version(user) -> str:
    return user.get_session_auth_hash()[:20]


class LoginSerializer(TokenObtainPairSerializer):
    @classmethod
    def get_token(cls, user):
        token = super().get_token(user)
        token[CLAIM] = credentials_version(user)  # copied into every access token made from it
        return token


class RefreshSerializer(TokenRefreshSerializer):
    def validate(self, attrs):
        refresh = RefreshToken(attrs["refresh"])
        user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
        user = get_user_model().objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}).first()
        if user is None or refresh.payload.get(CLAIM) != credentials_version(user):
            raise AuthenticationFailed(STALE, "token_not_valid")
        return super().validate(attrs)


class VersionedJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        if validated_token.get(CLAIM) != credentials_version(user):
            raise AuthenticationFailed(STALE, "token_not_valid")
        return user


class PersonalTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <key>``, looked up by the key's SHA-256 (mofsim_site.models)."""

    model = PersonalToken

    def authenticate_credentials(self, key):
        token = PersonalToken.objects.select_related("user").filter(digest=token_digest(key)).first()
        if token is None or not token.user.is_active:
            raise AuthenticationFailed("Invalid token.")
        return token.user, token


def revoke_all(user) -> None:
    for outstanding in OutstandingToken.objects.filter(user=user):
        BlacklistedToken.objects.get_or_create(token=outstanding)
    PersonalToken.objects.filter(user=user).delete()


def _on_user_saved(sender, instance, created, **kwargs):
    # AbstractBaseUser.save keeps the raw password in _password until after post_save: set
    # means set_password() was called, whoever called it (admin, password change form, shell).
    if not created and getattr(instance, "_password", None) is not None:
        revoke_all(instance)


def connect() -> None:
    post_save.connect(_on_user_saved, sender=get_user_model(), dispatch_uid="mofsim-revoke-on-password-change")
