#!/usr/bin/env bash
# Everything mofsim needs on a fresh machine: .venv, the database schema (+ built-in models),
# and the built-in MOFSimBench structure sets. Idempotent. Honours WORKDIR, DATABASE_URL,
# REDIS_URL and MOFSIM_SETS (comma-separated subset of essential,main_set,copper,hcmof).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
echo "== database (${DATABASE_URL:-SQLite under ${WORKDIR:-./var}})"
.venv/bin/python manage.py migrate --noinput -v 0
echo "== static files (CSS, htmx, API docs assets) into \$WORKDIR/static, served by whitenoise"
.venv/bin/python manage.py collectstatic --noinput -v 0
echo "== built-in structure sets"
.venv/bin/python manage.py load_mofsimbench ${MOFSIM_SETS:+--sets "$MOFSIM_SETS"}
