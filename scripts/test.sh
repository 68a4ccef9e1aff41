#!/usr/bin/env bash
# The README's test command: set up .venv if needed, then run the suite. Extra arguments go to
# pytest (e.g. -m "not slow"). Tests use their own WORKDIR (var/test) and Redis namespace; set
# DATABASE_URL / REDIS_URL to run the same suite on PostgreSQL + a Redis server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
exec .venv/bin/python -m pytest "$@"
