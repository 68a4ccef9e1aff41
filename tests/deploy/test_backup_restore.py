"""scripts/backup.sh → wipe database and WORKDIR → scripts/restore.sh finds every task, result
and artifact again (checksums equal), on whichever database the suite runs (SQLite or PostgreSQL)."""

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection, connections

from tests.conftest import make_task, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
DATA_DIRS = ("raw", "processed", "models", "artifacts", "logs")


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def script(name, *args):
    url = ["--database-url", database_url(), "--workdir", str(settings.WORKDIR)]
    return subprocess.run(["bash", str(ROOT / "scripts" / name), *args, *url], capture_output=True, text=True)


def files_on_disk() -> dict[str, str]:
    out = {}
    for name in DATA_DIRS:
        for path in sorted((settings.WORKDIR / name).rglob("*")):
            if path.is_file():
                out[str(path.relative_to(settings.WORKDIR))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def snapshot():
    from tasks_app.models import Task, TaskArtifact

    tasks = {str(t.pk): (t.status, t.result, t.log_lines.count()) for t in Task.objects.all()}
    artifacts = {(str(a.task_id), a.name): (a.path, a.sha256) for a in TaskArtifact.objects.all()}
    return tasks, artifacts


def wipe():
    connections.close_all()
    if connection.vendor == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{connection.settings_dict['NAME']}{suffix}").unlink(missing_ok=True)
    else:
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        connections.close_all()
    for name in DATA_DIRS:
        shutil.rmtree(settings.WORKDIR / name, ignore_errors=True)


def test_it_backs_up_wipes_and_restores_every_task_result_and_artifact(owner, emt, worker, cu_structure, tmp_path):
    from tasks_app.models import Task

    tasks = [make_task(owner, cu_structure, emt, kind) for kind in ("single_point", "optimization")]
    wait_for(lambda: all(Task.objects.get(pk=t.pk).status == "COMPLETED" for t in tasks), timeout=120)
    before, artifacts = snapshot()
    assert len(before) == 2 and len(artifacts) >= 4
    disk = files_on_disk()
    assert all(path in disk for path, _ in artifacts.values())
    connections.close_all()

    made = script("backup.sh", "--output", str(tmp_path))
    assert made.returncode == 0, made.stderr
    archive = next(tmp_path.glob("mofsim-backup-*.tar.gz"))

    refused = script("restore.sh", str(archive))
    assert refused.returncode != 0 and "refusing to overwrite a non-empty target" in refused.stderr

    wipe()
    assert files_on_disk() == {}
    restored = script("restore.sh", str(archive))
    assert restored.returncode == 0, restored.stderr

    assert snapshot() == (before, artifacts)
    assert files_on_disk() == disk
    for path, digest in artifacts.values():
        with default_storage.open(path) as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == digest


def test_it_refuses_a_tampered_archive(owner, tmp_path):
    import tarfile

    made = script("backup.sh", "--output", str(tmp_path / "out"))
    assert made.returncode == 0, made.stderr
    archive = next((tmp_path / "out").glob("*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    db_file = next((tmp_path / "x" / "backup").glob("db.*"))
    db_file.write_bytes(db_file.read_bytes() + b"tampered")
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        tar.add(tmp_path / "x" / "backup", arcname="backup")
    result = script("restore.sh", str(bad), "--force")
    assert result.returncode != 0 and "checksum mismatch" in result.stderr
