#!/usr/bin/env bash
# The README's first command: set everything up, start a CPU worker on the embedded default
# (SQLite + embedded Redis), and run a real benchmark through the queue — SevenNet-0 relaxing
# two small MOFs from MOFSimBench's main set with the quick preset — then print the results.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/bootstrap.sh

echo "== starting the worker launcher (one CPU worker: no GPU here)"
mkdir -p "${WORKDIR:-var}/logs"
.venv/bin/python manage.py run_gpu_workers > "${WORKDIR:-var}/logs/demo-workers.log" 2>&1 &
launcher=$!
trap 'kill -TERM $launcher 2>/dev/null; wait $launcher 2>/dev/null || true' EXIT

echo "== benchmark: optimization, SevenNet-0, quick preset, calf (44 atoms) + Zn-MOF-74 (54 atoms)"
.venv/bin/python manage.py enqueue_benchmark optimization \
  --structures calf,Zn-MOF-74 --model sevennet-0 --preset quick --wait --timeout 1800
echo "== done in $(( $(date +%s) - start )) s. Web UI: .venv/bin/python manage.py runserver (see README)"
