"""Retention: old artifacts go, results stay; the remote node's input cache stays bounded."""

import os
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tasks_app.models import Task

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
