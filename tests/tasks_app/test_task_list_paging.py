"""The task list pages by keyset cursor (issue 12): every task once, newest first, no OFFSET,
whatever the depth; ``?page=N`` still pages by number for clients that ask for it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tasks_app.models import Task
from tasks_app.services import enqueue_task

pytestmark = pytest.mark.django_db
URL = "/api/v1/tasks/"


@pytest.fixture
def seven(owner):
    return [enqueue_task(owner=owner, kind="single_point", params={}).pk for _ in range(7)]


def walk(api, url, key="next"):
    pages = []
    while url:
        body = api.get(url).json()
        pages.append(body)
        url = body[key]
    return pages


def newest_first(ids):
    return list(Task.objects.filter(pk__in=ids).order_by("-created_at", "-pk").values_list("pk", flat=True))


def test_next_links_walk_every_task_once_newest_first(api, seven):
    pages = walk(api, f"{URL}?page_size=3")
    assert [len(p["results"]) for p in pages] == [3, 3, 1]
    assert all(p["count"] == 7 for p in pages)
    assert "cursor=" in pages[0]["next"] and "page=" not in pages[0]["next"]
    ids = [r["id"] for p in pages for r in p["results"]]
    assert ids == [str(pk) for pk in newest_first(seven)]


def test_previous_links_walk_back_to_the_first_page(api, seven):
    forward = walk(api, f"{URL}?page_size=3")
    assert forward[0]["previous"] is None
    back = walk(api, forward[-1]["previous"], key="previous")
    assert [[r["id"] for r in p["results"]] for p in back] == [[r["id"] for r in p["results"]] for p in forward[1::-1]]


def test_equal_timestamps_are_neither_skipped_nor_repeated(api, seven):
    Task.objects.filter(pk__in=seven).update(created_at=Task.objects.get(pk=seven[0]).created_at)
    ids = [r["id"] for p in walk(api, f"{URL}?page_size=2") for r in p["results"]]
    assert sorted(ids) == sorted(str(pk) for pk in seven) and len(ids) == 7


def test_a_cursor_page_reads_no_offset_and_keeps_the_filter(api, seven, cu_structure, emt):
    first = api.get(f"{URL}?status=QUEUED&page_size=2").json()
    assert "status=QUEUED" in first["next"]
    with CaptureQueriesContext(connection) as queries:
        second = api.get(first["next"]).json()
    assert len(second["results"]) == 2
    assert not [q["sql"] for q in queries if "OFFSET" in q["sql"].upper()]


def test_page_numbers_still_work(api, seven):
    body = api.get(f"{URL}?page=2&page_size=3").json()
    assert body["count"] == 7 and "page=3" in body["next"] and body["previous"]
    assert [r["id"] for r in body["results"]] == [str(pk) for pk in newest_first(seven)[3:6]]


@pytest.mark.parametrize("cursor", ["garbage", "WyJ4IiwgMV0"])
def test_a_bad_cursor_is_a_400_naming_it(api, seven, cursor):
    response = api.get(f"{URL}?cursor={cursor}")
    assert response.status_code == 400 and "cursor" in response.json()["details"]
