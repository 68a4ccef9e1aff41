#!/usr/bin/env bash
# Set up everything mofsim needs on a fresh Linux machine with Python 3.11:
# a virtualenv in .venv with the pinned requirements (skipped when they did not change),
# the database schema, the built-in models and the built-in MOFSimBench structure sets.
# Idempotent: safe to run again. Honours WORKDIR, DATABASE_URL, REDIS_URL (see .env.example).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
"$PYTHON" -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python >= 3.11 is required"'

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "== installing requirements (about a minute)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  # torch first and alone, so nothing can pull a different (CUDA) build in as a dependency.
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -r requirements/dev.txt
  echo "$want" > "$stamp"
fi

echo "== database"
.venv/bin/python manage.py migrate --noinput -v 0
echo "== built-in structure sets"
.venv/bin/python manage.py load_mofsimbench ${MOFSIM_SETS:+--sets "$MOFSIM_SETS"}
