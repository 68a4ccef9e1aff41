"""Site-wide auth plumbing that needs a table: personal API tokens, stored hashed."""

import hashlib
import secrets

from django.conf import settings
from django.db import models, transaction


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class PersonalToken(models.Model):
    """A user's long-lived API token (``Authorization: Token <key>``), one per user.

    Only the SHA-256 of the key is stored, so a database dump or an admin page reveals no usable
    token; the key is shown once, when ``issue`` creates it. A 160-bit random key needs no salt
    or slow hash: nothing can be guessed from its digest.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personal_token")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"token of {self.user}"

    @classmethod
    def issue(cls, user) -> str:
        """Create (or rotate) ``user``'s token and return its key; the old key stops working."""
        key = secrets.token_hex(20)
        with transaction.atomic():
            cls.objects.filter(user=user).delete()
            cls.objects.create(user=user, digest=token_digest(key))
        return key
