"""What a user may ask of the queue: priority, time limit and how many tasks are active at once.

Priority above NORMAL and time limits above ``TASK_TIME_LIMIT_S`` are for staff (operators
decide what jumps the queue), and a normal user has at most ``USER_MAX_ACTIVE_TASKS`` tasks
pending, queued, assigned or running. One place, used by the API serializers and views and by
the submit pages, so every way in applies the same rules.
"""

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from tasks_app.choices import ACTIVE, Priority
from tasks_app.models import Task

# The database column is a 32-bit integer; beyond it SQLite raised OverflowError (a 500).
MAX_TIME_LIMIT_S = 2**31 - 1


class QuotaExceeded(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "quota_exceeded"


def priority_error(user, priority: int) -> str | None:
    if priority > Priority.NORMAL and not user.is_staff:
        return "priority above NORMAL is reserved for staff"
    return None


def time_limit_error(user, seconds: int | None) -> str | None:
    if seconds is None:
        return None
    cap = MAX_TIME_LIMIT_S if user.is_staff else settings.TASK_TIME_LIMIT_S
    if seconds > cap:
        return f"at most {cap} s" + ("" if user.is_staff else " (longer limits are for staff)")
    return None


def allowed_priorities(user) -> list[tuple[int, str]]:
    """Priority choices for a submit form: everything for staff, up to NORMAL otherwise."""
    return [(value, label) for value, label in Priority.choices if not priority_error(user, value)]


def check_quota(user, n_new: int = 1) -> None:
    """``QuotaExceeded`` (429) when ``n_new`` more tasks would pass the user's active-task limit."""

    if user.is_staff:
        return
    limit = settings.USER_MAX_ACTIVE_TASKS
    active = Task.objects.filter(owner=user, status__in=ACTIVE).count()
    if active + n_new > limit:
        raise QuotaExceeded(
            f"you have {active} active task(s) and asked for {n_new} more; the limit is {limit} "
            "(wait for some to finish or cancel them)"
        )


class SubmissionPolicyMixin:
    """For submit serializers with ``priority`` and ``time_limit_s`` (needs ``request`` in context)."""

    def validate_priority(self, value):
        error = priority_error(self.context["request"].user, value)
        if error:
            raise ValidationError(error)
        return value

    def validate_time_limit_s(self, value):
        error = time_limit_error(self.context["request"].user, value)
        if error:
            raise ValidationError(error)
        return value
