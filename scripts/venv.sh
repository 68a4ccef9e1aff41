#!/usr/bin/env bash
# Create .venv (Python >= 3.11) and install the pinned requirements; skipped when nothing changed.
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
  echo "== installing pinned requirements (about a minute)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  # torch first and alone, so no other package can pull a different (CUDA) build in.
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -r requirements/dev.txt
  echo "$want" > "$stamp"
fi
