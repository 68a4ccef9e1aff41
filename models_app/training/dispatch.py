"""Signed, expiring URLs through which a worker fetches a job's input data.

The token names one dataset *and* the task it was issued for, signed with ``TimestampSigner``
(SECRET_KEY, a salt of its own); the download endpoint checks the signature, the age
(``TRAINING_DATA_URL_MAX_AGE_S``) and that the task still runs and uses that dataset. A worker
on another machine thus needs neither a shared disk nor a user's credentials.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "mofsim.training.data-url"


def sign(dataset_id, task_id) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"d": str(dataset_id), "t": str(task_id)})


def unsign(token: str) -> dict:
    """``{"d": dataset_id, "t": task_id}``; raises ``signing.SignatureExpired`` / ``BadSignature``."""
    return signing.TimestampSigner(salt=SALT).unsign_object(token, max_age=settings.TRAINING_DATA_URL_MAX_AGE_S)


def data_url(server: str, dataset_id, task_id) -> str:
    return server.rstrip("/") + reverse("api:job-data", kwargs={"token": sign(dataset_id, task_id)})
