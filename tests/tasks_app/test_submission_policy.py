"""Who may ask for what: priority and time limits for staff, an active-task quota, no oracles.

On main a normal user could submit CRITICAL tasks with a 10^12 s limit (10^20 was a 500), point
``reference.dft_structure`` at any file under WORKDIR ("no such file" told which exist), and
"structure not found" vs "Invalid pk" told which structure ids exist.
"""

import pytest
from django.conf import settings

from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def submit(client, structure, **body):
    return client.post("/api/v1/tasks/single_point", {"structure": structure.pk, "model": "emt", **body}, format="json")


@pytest.mark.parametrize("priority", ["HIGH", "CRITICAL", 3])
def test_a_normal_user_cannot_raise_priority(api, cu_structure, emt, priority):
    response = submit(api, cu_structure, priority=priority)
    assert response.status_code == 400, response.content
    assert response.json()["details"] == {"priority": ["priority above NORMAL is reserved for staff"]}
    assert not Task.objects.exists()


def test_staff_can_raise_priority_and_time_limit(operator, cu_structure, emt):
    response = submit(client_for(operator), cu_structure, priority="CRITICAL", time_limit_s=10**6)
    assert response.status_code == 201, response.content
    assert response.json()["priority"] == "CRITICAL" and response.json()["time_limit_s"] == 10**6


@pytest.mark.parametrize("seconds", [10**12, 10**20, settings.TASK_TIME_LIMIT_S + 1])
def test_a_normal_user_time_limit_is_capped(api, cu_structure, emt, seconds):
    response = submit(api, cu_structure, time_limit_s=seconds)
    assert response.status_code == 400, response.content
    message = response.json()["details"]["time_limit_s"][0]
    assert f"at most {settings.TASK_TIME_LIMIT_S} s" in message or "less than or equal to 2147483647" in message


def test_even_staff_time_limits_fit_the_database(operator, cu_structure, emt):
    response = submit(client_for(operator), cu_structure, time_limit_s=10**20)
    assert response.status_code == 400 and "less than or equal to 2147483647" in response.json()["message"]


def test_the_active_task_quota_is_a_429(api, owner, cu_structure, emt, settings):
    settings.USER_MAX_ACTIVE_TASKS = 2
    assert submit(api, cu_structure).status_code == 201
    assert submit(api, cu_structure).status_code == 201
    response = submit(api, cu_structure)
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["code"] == "quota_exceeded" and "limit is 2" in body["message"]
    Task.objects.filter(owner=owner).update(status=TaskStatus.COMPLETED)
    assert submit(api, cu_structure).status_code == 201


def test_staff_are_exempt_from_the_quota(operator, cu_structure, emt, settings):
    settings.USER_MAX_ACTIVE_TASKS = 0
    assert submit(client_for(operator), cu_structure).status_code == 201


def test_a_benchmark_counts_all_its_tasks_against_the_quota(api, cu_structure, emt, settings):
    settings.USER_MAX_ACTIVE_TASKS = 1
    body = {"kind": "single_point", "model": "emt", "structures": [cu_structure.pk, cu_structure.pk]}
    response = api.post("/api/v1/benchmarks/", body, format="json")
    assert response.status_code == 429, response.content
    assert not Task.objects.exists()


def test_the_submit_page_offers_normal_users_no_high_priority(client, owner):
    client.force_login(owner)
    page = client.get("/tasks/new/").content.decode()
    assert "Normal" in page and "Critical" not in page and "High" not in page


def test_a_user_cannot_point_the_reference_at_files(api, cu_structure, emt):
    """Same answer for an existing file (the database) and a missing one: no oracle, no read."""
    answers = set()
    for path in (str(settings.WORKDIR / "test-db.sqlite3"), str(settings.WORKDIR / "no-such-file.cif")):
        body = {"structure": cu_structure.pk, "model": "emt", "params": {"reference": {"dft_structure": path}}}
        response = api.post("/api/v1/tasks/optimization", body, format="json")
        assert response.status_code == 400, response.content
        answers.add(tuple(response.json()["details"]["params"]["reference"]["dft_structure"]))
    assert answers == {("set from the structure's own DFT reference; it cannot be given",)}


def test_someone_elses_structure_and_a_missing_one_get_the_same_answer(api, outsider, cu_cif, emt):
    from structures_app.services import store_path

    theirs = store_path(cu_cif, owner=outsider, project="outsider", name="theirs")
    answers = []
    for pk in (theirs.pk, theirs.pk + 1000):
        response = api.post("/api/v1/tasks/single_point", {"structure": pk, "model": "emt"}, format="json")
        assert response.status_code == 400
        answers.append(response.json()["details"]["structure"][0].replace(str(pk), "<id>"))
    assert answers[0] == answers[1] == "structure <id> not found"


@pytest.mark.parametrize("value", [1.5, True, "x", 10**30, -1, [1], {"id": 1}])
def test_malformed_structure_ids_are_400s(api, emt, value):
    response = api.post("/api/v1/tasks/single_point", {"structure": value, "model": "emt"}, format="json")
    assert response.status_code == 400, response.content
