"""The worker side of a run: results stored as plain JSON, failures become states, never stuck."""

import math

import numpy as np
import pytest

from tasks_app.models import Task
from tasks_app.runner import json_safe
from tasks_app.services import enqueue_task

pytestmark = pytest.mark.django_db


def test_json_safe_turns_numpy_and_nan_into_plain_json():
    value = {"a": np.bool_(True), "b": np.float64(1.5), "c": np.arange(3), "d": math.nan, "e": (1, np.int64(2)),
             "f": [math.inf]}  # fmt: skip
    assert json_safe(value) == {"a": True, "b": 1.5, "c": [0, 1, 2], "d": None, "e": [1, 2], "f": [None]}


def numpy_result(atoms, calculator, params, report):
    report.progress(1, 1, energy=np.float64(-1.0))
    return {"flag": np.bool_(False), "nan": float("nan"), "values": np.ones(2)}


def unserialisable_result(atoms, calculator, params, report):
    return {"set": {1, 2}}  # becomes a string, still stored


def crashing(atoms, calculator, params, report):
    raise ZeroDivisionError("boom")


@pytest.mark.parametrize("func", [numpy_result, unserialisable_result])
def test_awkward_results_are_stored(owner, run_inline, temp_kind, func):
    kind = temp_kind(f"tmp_{func.__name__}", func)
    task = run_inline(enqueue_task(owner=owner, kind=kind, params={}), device="cpu")
    assert task.status == "COMPLETED", task.error
    stored = Task.objects.get(pk=task.pk).result
    assert stored["provenance"]["device"] == "cpu"
    if func is numpy_result:
        assert stored["flag"] is False and stored["nan"] is None and stored["values"] == [1.0, 1.0]


def test_an_exception_fails_the_task_with_a_stripped_traceback(owner, run_inline, temp_kind):
    kind = temp_kind("tmp_crash", crashing)
    task = run_inline(enqueue_task(owner=owner, kind=kind, params={}), device="cpu")
    assert task.status == "FAILED"
    assert task.error == "ZeroDivisionError: boom"
    assert "ZeroDivisionError" in task.traceback and "/work/main" not in task.traceback
    assert {a.name for a in task.artifacts.all()} >= {"task.log", "metrics.json"}


def test_each_file_is_stored_once_with_the_hash_and_size_of_what_is_on_disk(owner, cu_structure, emt, run_inline):
    """The platform's files are hashed from memory (task.log as it is written), not read back:
    the recorded hash and size must still be those of the stored file, for every artifact."""
    import json

    from django.core.files.storage import default_storage

    from mofsim_site.files import sha256_file
    from tasks_app.models import TaskArtifact
    from tests.conftest import make_task

    task = run_inline(make_task(owner, cu_structure, emt), device="cpu")
    assert task.status == "COMPLETED", task.error
    artifacts = {a.name: a for a in TaskArtifact.objects.filter(task=task)}
    assert {"result.json", "metrics.json", "task.log", "structure.extxyz"} <= set(artifacts)
    for artifact in artifacts.values():
        path = default_storage.path(artifact.path)
        assert (artifact.sha256, artifact.size_bytes) == (sha256_file(path), default_storage.size(artifact.path))
    with default_storage.open(artifacts["task.log"].path) as fh:
        log = fh.read().decode()
    assert "loading model emt" in log and "E = " in log
    with default_storage.open(artifacts["metrics.json"].path) as fh:
        assert json.load(fh) == [{"step": p.step, **p.data} for p in task.metric_points.order_by("step")]
