#!/usr/bin/env bash
# One timestamped archive of the database (pg_dump custom format / SQLite online backup) and the
# files under WORKDIR (raw, processed, models, artifacts, logs; + the S3 bucket when configured),
# with a manifest of SHA-256 checksums. Reads DATABASE_URL and WORKDIR like the platform.
#   bash scripts/backup.sh [--output DIR]          (default ./backups)
# Details and what is not backed up: docs/operations.md ("Backup and restore").
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python; [ -x "$PY" ] || PY=python3
exec "$PY" scripts/backup_restore.py backup "$@"
