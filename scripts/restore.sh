#!/usr/bin/env bash
# Restore an archive made by scripts/backup.sh into DATABASE_URL / WORKDIR, after checking every
# checksum. Refuses a non-empty target unless --force. Stop web and workers first.
#   bash scripts/restore.sh mofsim-backup-<stamp>.tar.gz [--force]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python; [ -x "$PY" ] || PY=python3
exec "$PY" scripts/backup_restore.py restore "$@"
