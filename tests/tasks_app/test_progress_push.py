"""The progress push carries every metric point written since the last one, for the live chart."""

import html
import json
import re

import pytest

from tasks_app import events

pytestmark = pytest.mark.django_db


@pytest.fixture
def pushed(monkeypatch):
    messages = []
    monkeypatch.setattr(events, "push", lambda batch: messages.extend(m for _, m in batch))
    monkeypatch.setattr(events, "listened", lambda groups: True)  # as if the task page were open
    return messages


def attribute(fragment: str, name: str):
    found = re.search(rf'{name}="([^"]*)"', fragment)
    return json.loads(html.unescape(found.group(1))) if found else None


def test_the_fragment_carries_the_batch_of_points_for_the_chart(task, pushed):
    batch = [{"step": i, "energy": -1.0 - i, "fmax": 1.0 / (i + 1), "stage": "opt"} for i in range(5)]
    events.progress(task, batch[-1], batch)
    fragment = pushed[-1]["html"]
    assert attribute(fragment, "data-point") == {"step": 4, "data": {"energy": -5.0, "fmax": 0.2, "stage": "opt"}}
    assert [p["step"] for p in attribute(fragment, "data-points")] == [0, 1, 2, 3, 4]

    events.progress(task, batch[-1])  # one point only: no batch attribute
    assert attribute(pushed[-1]["html"], "data-points") is None


def test_a_long_batch_is_thinned_evenly_and_keeps_its_last_point(task, pushed):
    batch = [{"step": i, "temperature": 300.0} for i in range(1000)]
    events.progress(task, batch[-1], batch)
    steps = [p["step"] for p in attribute(pushed[-1]["html"], "data-points")]
    assert len(steps) == events.MAX_PUSHED_POINTS and steps[0] == 0 and steps[-1] == 999
    assert steps == sorted(steps)
