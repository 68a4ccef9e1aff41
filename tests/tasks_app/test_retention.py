"""Retention: old artifacts and per-task rows go, results and active tasks' rows stay; old
finished Dramatiq message rows go; the remote node's input cache stays bounded."""

import os
import time
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from tasks_app.models import Task, TaskAttempt, TaskLogLine, TaskMetricPoint

pytestmark = pytest.mark.django_db


def test_old_artifacts_are_pruned_and_results_kept(owner, cu_structure, emt, run_inline, task, capsys):
    from django.conf import settings

    done = run_inline(task, device="cpu")
    assert done.status == "COMPLETED" and done.artifacts.count() >= 3
    folder = settings.WORKDIR / "artifacts" / str(done.pk)
    assert folder.is_dir()

    call_command("prune_artifacts", "--older-than", "30", "--dry-run")
    assert "would delete 0 files" in capsys.readouterr().out  # finished just now

    Task.objects.filter(pk=done.pk).update(finished_at=timezone.now() - timedelta(days=31))
    call_command("prune_artifacts", "--older-than", "30", "--dry-run")
    assert f"would delete {done.artifacts.count()} files" in capsys.readouterr().out
    assert folder.is_dir()

    call_command("prune_artifacts", "--older-than", "30")
    assert "deleted" in capsys.readouterr().out
    done.refresh_from_db()
    assert done.artifacts.count() == 0 and not folder.exists()
    assert done.result["energy_ev"] is not None  # the result survives
    assert done.log_lines.filter(message__startswith="artifacts pruned").exists()


def test_the_node_cache_keeps_the_most_recently_used_files(tmp_path):
    from tasks_app.inputs import prune_cache

    (tmp_path / "processed").mkdir()
    (tmp_path / "models").mkdir()
    now = time.time()
    files = []
    for i, sub in enumerate(["processed", "models", "processed", "models"]):
        path = tmp_path / sub / f"f{i}"
        path.write_bytes(b"x" * 100)
        os.utime(path, (now - 100 + i, now - 100 + i))  # f3 newest
        files.append(path)
    (tmp_path / "processed" / ".f9.part").write_bytes(b"x" * 1000)  # a download in progress: never touched
    removed = prune_cache(250, root=tmp_path)
    assert sorted(p.name for p in removed) == ["f0", "f1"]
    assert files[2].exists() and files[3].exists() and (tmp_path / "processed" / ".f9.part").exists()


def _finished_long_ago(task, days=31):
    Task.objects.filter(pk=task.pk).update(finished_at=timezone.now() - timedelta(days=days))


def _rows(task) -> dict:
    return {
        "log_lines": TaskLogLine.objects.filter(task=task).count(),
        "metric_points": TaskMetricPoint.objects.filter(task=task).count(),
        "attempts": TaskAttempt.objects.filter(task=task).count(),
    }


def test_rows_of_old_finished_tasks_go_and_active_and_recent_ones_stay(owner, cu_structure, emt, run_inline):
    from tasks_app.retention import prune_task_rows
    from tasks_app.scheduler import claim_next_task
    from tests.conftest import make_task

    old = run_inline(make_task(owner, cu_structure, emt), device="cpu")
    recent = run_inline(make_task(owner, cu_structure, emt), device="cpu")
    for done in (old, recent):
        assert done.status == "COMPLETED"
    TaskMetricPoint.objects.bulk_create(TaskMetricPoint(task=old, step=i, data={"energy": -i}) for i in range(7))
    _finished_long_ago(old)
    make_task(owner, cu_structure, emt)
    held = claim_next_task(None)  # an attempt in flight
    queued = make_task(owner, cu_structure, emt)
    Task.objects.filter(pk__in=[held.pk, queued.pk]).update(created_at=timezone.now() - timedelta(days=90))
    keep = {t.pk: _rows(t) for t in (recent, held, queued)}
    before = _rows(old)
    assert before["log_lines"] > 0 and before["attempts"] == 1 and before["metric_points"] >= 7

    assert prune_task_rows(older_than_days=30, deadline=time.monotonic())["tasks"] == 0  # no budget, no work
    summary = prune_task_rows(older_than_days=30, batch=2)  # many small batches
    assert summary == {"tasks": 1, **before, "callback_deliveries": 0}
    assert _rows(old) == {"log_lines": 0, "metric_points": 0, "attempts": 0}
    old.refresh_from_db()
    assert old.rows_pruned_at is not None and old.result["energy_ev"] is not None  # the result stays
    assert {t.pk: _rows(t) for t in (recent, held, queued)} == keep
    assert prune_task_rows(older_than_days=30) == dict.fromkeys(summary, 0)  # a stamped task is not read again
    assert prune_task_rows(older_than_days=0)["tasks"] == 0  # 0 keeps rows forever


def _message(status, age_s):
    from django_dramatiq.models import Task as DramatiqMessage

    row = DramatiqMessage.tasks.create(id=uuid.uuid4(), status=status, message_data=b"{}", queue_name="mofsim")
    DramatiqMessage.tasks.filter(pk=row.pk).update(updated_at=timezone.now() - timedelta(seconds=age_s))
    return row.pk


def test_finished_message_rows_are_pruned_and_pending_ones_kept():
    from django_dramatiq.models import Task as DramatiqMessage

    from tasks_app.retention import prune_dramatiq_messages

    gone = [_message(s, 7200 + i) for i, s in enumerate(["done", "failed", "skipped", "done"])]
    # Old rows of messages still queued or running sit between them: they must be skipped over.
    kept = [_message(s, 7200 + i) for i, s in enumerate(["enqueued", "running", "enqueued"], start=10)]
    kept += [_message("done", 60)]  # finished, but recently
    assert prune_dramatiq_messages(older_than_s=3600, batch=2) == len(gone)
    assert set(DramatiqMessage.tasks.values_list("pk", flat=True)) == set(kept)


@pytest.mark.django_db(transaction=True)  # a housekeeping pass closes stale connections
def test_prune_rows_command_and_housekeeping_apply_the_policy(owner, task, run_inline, settings, capsys):
    from nodes_app.housekeeping import housekeeping_pass

    done = run_inline(task, device="cpu")
    _finished_long_ago(done, days=10)
    _message("done", 7200)
    call_command("prune_rows", "--older-than", "30")
    out = capsys.readouterr().out
    assert "of 0 tasks finished more than 30 days ago" in out and "deleted 1 finished message rows" in out

    settings.TASK_ROW_RETENTION_DAYS = 7
    settings.TASK_ARTIFACT_RETENTION_DAYS = 7
    summary = housekeeping_pass()
    assert summary["tasks_rows_pruned"] == 1 and summary["rows_pruned"] > 0
    assert summary["artifact_tasks_pruned"] == 1
    done.refresh_from_db()
    assert done.artifacts.count() == 0 and done.result["energy_ev"] is not None
    # the one row a pruned task keeps: the note that its files went
    assert [m[:16] for m in done.log_lines.values_list("message", flat=True)] == ["artifacts pruned"]

    with pytest.raises(CommandError):
        call_command("prune_rows", "--older-than", "-1")
