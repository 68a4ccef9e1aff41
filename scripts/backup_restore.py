"""Backup and restore of a mofsim installation: the database + the files under WORKDIR (+ S3).

Run through ``scripts/backup.sh`` / ``scripts/restore.sh``. Standard library only, no Django:
it reads the same ``DATABASE_URL`` / ``WORKDIR`` the settings do, so it also runs where the
platform's venv is broken.

Consistency: the database is dumped first (``pg_dump`` custom format, one snapshot; SQLite's
online backup API, which copies a consistent snapshot even with writers in WAL mode), then the
files are copied. Artifacts and uploads are written to disk before the row that names them is
committed, so every file the dumped rows reference already exists when the copy starts; files
newer than the dump come along as harmless extras. Redis is not backed up: it only carries work,
and after a restore the housekeeping reconciler re-sends the wake-ups of QUEUED tasks.

Not backed up: ``secret_key`` (the embedded default's signing key: a restored machine makes a new
one and users log in again), ``run/`` (the embedded Redis), ``tmp/`` and ``static/`` (rebuilt by
``collectstatic``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

DATA_DIRS = ("raw", "processed", "models", "artifacts", "logs")
FORMAT = 1


def database(url: str | None, workdir: Path) -> dict:
    """``{"engine": "sqlite", "path": …}`` or ``{"engine": "postgresql", "url": …}``, as settings.py reads it."""
    if not url:
        return {"engine": "sqlite", "path": workdir / "db.sqlite3"}
    parsed = urlparse(url)
    if parsed.scheme in {"postgres", "postgresql"}:
        return {"engine": "postgresql", "url": url}
    if parsed.scheme == "sqlite":
        return {"engine": "sqlite", "path": Path("/" + unquote(parsed.path).lstrip("/"))}
    raise SystemExit(f"DATABASE_URL scheme {parsed.scheme!r} is not supported")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({result.returncode}): {result.stderr.strip()}")
    return result


# --- backup ---------------------------------------------------------------------------------------
def dump_database(db: dict, dest: Path) -> str:
    if db["engine"] == "sqlite":
        if not db["path"].exists():
            raise SystemExit(f"no database at {db['path']}")
        out = dest / "db.sqlite3"
        source = sqlite3.connect(db["path"], timeout=30)
        target = sqlite3.connect(out)
        try:
            source.backup(target)  # online: a consistent snapshot while workers write
        finally:
            target.close()
            source.close()
        return out.name
    out = dest / "db.pgdump"
    run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={out}", "--dbname", db["url"]])
    return out.name


def copy_files(workdir: Path, dest: Path) -> None:
    for name in DATA_DIRS:
        source = workdir / name
        if source.is_dir():
            shutil.copytree(source, dest / "workdir" / name, symlinks=True)


def sync_s3(dest: Path) -> str | None:
    """Artifacts in object storage (``AWS_STORAGE_BUCKET_NAME``): ``aws s3 sync`` into the archive."""
    bucket = os.environ.get("AWS_STORAGE_BUCKET_NAME")
    if not bucket:
        return None
    cmd = ["aws", "s3", "sync", f"s3://{bucket}", str(dest / "s3"), "--only-show-errors"]
    if os.environ.get("AWS_S3_ENDPOINT_URL"):
        cmd += ["--endpoint-url", os.environ["AWS_S3_ENDPOINT_URL"]]
    run(cmd)
    return bucket


def manifest(stage: Path, db: dict, db_file: str, bucket: str | None) -> dict:
    files = {
        str(p.relative_to(stage)): {"sha256": sha256(p), "size": p.stat().st_size}
        for p in sorted(stage.rglob("*"))
        if p.is_file()
    }
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "database": {"engine": db["engine"], "file": db_file},
        "s3_bucket": bucket,
        "files": files,
    }


def backup(args: argparse.Namespace) -> Path:
    workdir = Path(args.workdir).resolve()
    db = database(args.database_url, workdir)
    output = Path(args.output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    archive = output / f"mofsim-backup-{stamp}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="mofsim-backup-") as tmp:
        stage = Path(tmp) / "backup"
        stage.mkdir()
        db_file = dump_database(db, stage)  # first: see the module docstring
        copy_files(workdir, stage)
        bucket = sync_s3(stage)
        body = manifest(stage, db, db_file, bucket)
        (stage / "manifest.json").write_text(json.dumps(body, indent=2, sort_keys=True))
        partial = archive.with_name(archive.name + ".part")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(stage, arcname="backup")
        partial.replace(archive)  # never a truncated archive under the final name
    print(f"{archive} ({len(body['files'])} files, database {db['engine']})")
    return archive


# --- restore --------------------------------------------------------------------------------------
def database_has_data(db: dict) -> bool:
    if db["engine"] == "sqlite":
        if not db["path"].exists() or db["path"].stat().st_size == 0:
            return False
        with sqlite3.connect(db["path"]) as conn:
            return conn.execute("select count(*) from sqlite_master where type='table'").fetchone()[0] > 0
    out = run(["psql", "--no-psqlrc", "-tAc", "select count(*) from pg_tables where schemaname='public'", db["url"]])
    return int(out.stdout.strip() or 0) > 0


def files_present(workdir: Path) -> list[str]:
    return [name for name in DATA_DIRS if (workdir / name).is_dir() and any((workdir / name).iterdir())]


def verify(stage: Path) -> dict:
    body = json.loads((stage / "manifest.json").read_text())
    if body.get("format") != FORMAT:
        raise SystemExit(f"unknown backup format {body.get('format')!r}")
    bad = [name for name, meta in body["files"].items() if sha256(stage / name) != meta["sha256"]]
    if bad:
        raise SystemExit(f"checksum mismatch in the archive: {', '.join(bad[:5])}")
    return body


def restore_database(db: dict, stage: Path, body: dict) -> None:
    if body["database"]["engine"] != db["engine"]:
        raise SystemExit(f"archive holds a {body['database']['engine']} database; the target is {db['engine']}")
    source = stage / body["database"]["file"]
    if db["engine"] == "sqlite":
        db["path"].parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{db['path']}{suffix}").unlink(missing_ok=True)
        partial = db["path"].with_name(db["path"].name + ".restore")
        shutil.copyfile(source, partial)
        partial.replace(db["path"])
        return
    run(
        ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
         "--exit-on-error", "--dbname", db["url"], str(source)]
    )  # fmt: skip


def restore_files(workdir: Path, stage: Path) -> None:
    for name in DATA_DIRS:
        target = workdir / name
        if target.exists():
            shutil.rmtree(target)
        if (stage / "workdir" / name).is_dir():
            shutil.copytree(stage / "workdir" / name, target, symlinks=True)


def restore_s3(stage: Path, archived_bucket: str) -> None:
    """Objects go back to ``AWS_STORAGE_BUCKET_NAME`` (which may differ from the archived bucket)."""
    bucket = os.environ.get("AWS_STORAGE_BUCKET_NAME")
    if not bucket:
        raise SystemExit(f"the archive holds S3 objects (bucket {archived_bucket}); set AWS_STORAGE_BUCKET_NAME")
    cmd = ["aws", "s3", "sync", str(stage / "s3"), f"s3://{bucket}", "--only-show-errors"]
    if os.environ.get("AWS_S3_ENDPOINT_URL"):
        cmd += ["--endpoint-url", os.environ["AWS_S3_ENDPOINT_URL"]]
    run(cmd)


def restore(args: argparse.Namespace) -> None:
    workdir = Path(args.workdir).resolve()
    db = database(args.database_url, workdir)
    occupied = (["database"] if database_has_data(db) else []) + files_present(workdir)
    if occupied and not args.force:
        raise SystemExit(
            f"refusing to overwrite a non-empty target ({', '.join(occupied)} under {workdir}); "
            "stop the platform and pass --force to replace it"
        )
    with tempfile.TemporaryDirectory(prefix="mofsim-restore-") as tmp:
        with tarfile.open(args.archive) as tar:
            tar.extractall(tmp, filter="data")  # no absolute paths, no escaping links
        stage = Path(tmp) / "backup"
        body = verify(stage)
        restore_database(db, stage, body)
        restore_files(workdir, stage)
        if body.get("s3_bucket"):
            restore_s3(stage, body["s3_bucket"])
    print(f"restored {len(body['files'])} files and the {db['engine']} database from {args.archive}")


def main(argv: list[str] | None = None) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--workdir", default=os.environ.get("WORKDIR") or "var")
    common.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or None)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("backup", parents=[common])
    b.add_argument("--output", default="backups", help="folder for the archive (default ./backups)")
    r = sub.add_parser("restore", parents=[common])
    r.add_argument("archive")
    r.add_argument("--force", action="store_true", help="replace a non-empty database / WORKDIR")
    args = parser.parse_args(argv)
    backup(args) if args.command == "backup" else restore(args)


if __name__ == "__main__":
    sys.exit(main())
