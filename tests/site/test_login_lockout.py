"""Login brute force (issue 10, finding 4): one shared, proxy-aware lockout on every login path.

Before: the API throttle keyed on X-Forwarded-For (rotate it, retry forever), the login pages
had no limit, and the counter lived in one process's memory.
"""

import pytest
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from mofsim_site.client_ip import client_ip

pytestmark = pytest.mark.django_db


def api_login(password, forwarded="", remote="203.0.113.5"):
    return APIClient().post(
        "/api/v1/auth/login", {"username": "owner", "password": password}, format="json",
        REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded,
    )  # fmt: skip


def fail_enough(forwarded_each_time=True):
    limit = settings.AXES_FAILURE_LIMIT
    codes = [api_login("wrong", forwarded=f"198.51.100.{i}" if forwarded_each_time else "").status_code
             for i in range(limit)]  # fmt: skip
    assert codes == [401] * (limit - 1) + [429]  # the attempt that reaches the limit is refused


def test_rotating_x_forwarded_for_does_not_bypass_the_lockout(owner):
    fail_enough(forwarded_each_time=True)
    response = api_login("owner-pass-123", forwarded="192.0.2.77")  # right password, fresh header
    assert response.status_code == 429
    assert "too many failed logins" in response.json()["message"]


def test_the_lockout_applies_on_the_login_page_and_the_admin_too(owner, operator, client):
    fail_enough()
    right = {"username": "owner", "password": "owner-pass-123"}
    page = client.post("/accounts/login/", right, REMOTE_ADDR="203.0.113.5")
    assert page.status_code == 429
    admin = client.post("/admin/login/", {"username": "operator", "password": "operator-pass-123"},
                        REMOTE_ADDR="203.0.113.5")  # fmt: skip
    assert admin.status_code == 429  # same address, another account
    elsewhere = client.post("/accounts/login/", right, REMOTE_ADDR="192.0.2.1")
    assert elsewhere.status_code == 429  # same account, another address


def test_page_failures_count_for_the_api_too(owner, client):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "owner", "password": "wrong"}, REMOTE_ADDR="203.0.113.9")
    assert api_login("owner-pass-123", remote="203.0.113.9").status_code == 429


def test_the_count_lives_in_the_database_so_every_process_sees_it(owner):
    fail_enough()
    assert AccessAttempt.objects.filter(ip_address="203.0.113.5").get().failures_since_start == 5
    request = RequestFactory().post("/api/v1/auth/login", REMOTE_ADDR="203.0.113.5")
    request.axes_ip_address, request.axes_user_agent = "203.0.113.5", ""
    request.axes_path_info, request.axes_http_accept = "/api/v1/auth/login", ""
    from django.utils import timezone

    request.axes_attempt_time = timezone.now()
    assert AxesDatabaseHandler().is_locked(request, {"username": "owner"})  # a fresh handler: no memory


def test_forwarded_addresses_are_trusted_only_from_configured_proxies():
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert client_ip(request) == "10.0.0.2"
    assert SimpleRateThrottle.get_ident(SimpleRateThrottle.__new__(SimpleRateThrottle), request) == "10.0.0.2"
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert client_ip(request) == "198.51.100.7"  # what our proxy saw, not what the client wrote
    with override_settings(TRUSTED_PROXY_COUNT=3):
        assert client_ip(request) == "10.0.0.2"  # fewer hops than proxies: do not guess
