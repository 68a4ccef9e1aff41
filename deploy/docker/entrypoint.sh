#!/usr/bin/env bash
# The image's entrypoint: one sub-command per role, each running exactly the command the README /
# docs/operations.md document for it, so a container behaves like a hand-started process.
#   migrate       manage.py migrate + load_mofsimbench (built-in sets; MOFSIM_SETS to limit)
#   web           manage.py collectstatic, then daphne on :8000 (websockets included)
#   worker        manage.py run_gpu_workers --gpus $WORKER_GPUS --no-service-worker --no-housekeeping
#   service       the service worker (alerts, webhooks, model-file checks): rundramatiq -Q service
#   housekeeping  manage.py housekeeping --loop (fail-over, offline nodes, lost wake-ups)
#   check         manage.py check (add --deploy in production)
#   health-web | health-worker   container health checks (compose.yaml)
#   anything else is run as given (e.g. `manage.py createsuperuser`)
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}
manage() { "$PY" manage.py "$@"; }

role=${1:-web}
[ $# -gt 0 ] && shift
case "$role" in
  migrate)
    manage migrate --noinput
    manage load_mofsimbench ${MOFSIM_SETS:+--sets "$MOFSIM_SETS"}
    ;;
  web)
    manage collectstatic --noinput -v 0
    exec "$PY" -m daphne --bind 0.0.0.0 --port "${PORT:-8000}" --proxy-headers mofsim_site.asgi:application
    ;;
  worker)
    exec "$PY" manage.py run_gpu_workers ${WORKER_GPUS:+--gpus "$WORKER_GPUS"} \
      --name-prefix "${MOFSIM_NODE_PREFIX:-$(hostname)}" --no-service-worker --no-housekeeping "$@"
    ;;
  service)
    # What run_gpu_workers starts as its service worker (nodes_app/launcher.py), on its own.
    export CUDA_VISIBLE_DEVICES="" MOFSIM_DEVICE=cpu dramatiq_queue_prefetch=1
    exec "$PY" manage.py rundramatiq --processes 1 --threads 2 --queues service --worker-shutdown-timeout 10000
    ;;
  housekeeping)
    exec "$PY" manage.py housekeeping --loop "$@"
    ;;
  check)
    exec "$PY" manage.py check "$@"
    ;;
  health-web)
    exec "$PY" -c "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:${PORT:-8000}/health/', timeout=5).status != 200)"
    ;;
  health-worker)
    # Healthy while every node this container registered heartbeated within NODE_OFFLINE_AFTER_S.
    exec "$PY" manage.py shell -c "
import sys
from datetime import timedelta
from django.conf import settings
from django.utils import timezone
from nodes_app.models import WorkerNode
nodes = WorkerNode.objects.filter(name__startswith='${MOFSIM_NODE_PREFIX:-$(hostname)}/')
cutoff = timezone.now() - timedelta(seconds=getattr(settings, 'NODE_OFFLINE_AFTER_S', 90))
sys.exit(0 if nodes.exists() and not nodes.filter(last_heartbeat__lt=cutoff).exists() else 1)"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
