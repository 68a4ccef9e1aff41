"""The alerts page's form: a user's own rules with the API's checks, switched on/off, deleted."""

import pytest
from django.urls import reverse

from alerts_app.models import AlertRule

pytestmark = pytest.mark.django_db
URL = reverse("alerts_app:alert_list")


def test_it_creates_a_rule_for_the_user_from_the_form(owner_client, owner):
    data = {"name": "my failures", "event": "task_failed", "transport": "email", "target": "me@example.org",
            "only_own_tasks": "on", "enabled": "on"}  # fmt: skip
    response = owner_client.post(URL, data)
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.owner, rule.event, rule.target, rule.enabled) == (owner, "task_failed", "me@example.org", True)
    assert "my failures" in owner_client.get(URL).content.decode()


def test_it_refuses_what_the_api_refuses_and_says_why(owner_client):
    bad = {"name": "x", "event": "task_failed", "transport": "email", "target": "not-an-address"}
    response = owner_client.post(URL, bad)
    assert response.status_code == 400 and "valid email" in response.content.decode()
    pool = {"name": "x", "event": "node_offline", "transport": "email", "target": "me@example.org"}
    response = owner_client.post(URL, pool)
    assert response.status_code == 400 and "only operators (staff)" in response.content.decode()
    assert not AlertRule.objects.exists()


def test_it_switches_and_deletes_only_the_users_own_rules(owner_client, owner, outsider):
    mine = AlertRule.objects.create(name="m", event="task_failed", transport="email", target="a@b.org", owner=owner)
    theirs = AlertRule.objects.create(
        name="t", event="task_failed", transport="email", target="c@d.org", owner=outsider
    )
    owner_client.post(reverse("alerts_app:rule_toggle", args=[mine.pk]))
    mine.refresh_from_db()
    assert not mine.enabled
    assert owner_client.post(reverse("alerts_app:rule_toggle", args=[theirs.pk])).status_code == 404
    assert owner_client.post(reverse("alerts_app:rule_delete", args=[theirs.pk])).status_code == 404
    owner_client.post(reverse("alerts_app:rule_delete", args=[mine.pk]))
    assert list(AlertRule.objects.values_list("name", flat=True)) == ["t"]
