# mofsim: one image for every role (web, worker, service, housekeeping, migrate); the role is the
# entrypoint's sub-command (deploy/docker/entrypoint.sh). CPU torch by default; on GPU hosts:
#   docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 -t mofsim:cuda .
# Not built in CI (no Docker there); see docs/operations.md "Containers" for what was tested.
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
# The CPU wheel index by default; a CUDA index (e.g. .../whl/cu128) for the GPU build.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

# bubblewrap: the sandbox that validates uploaded model files (models_app/sandbox.py).
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    WORKDIR=/data DJANGO_SETTINGS_MODULE=mofsim_site.settings

WORKDIR /app
# torch first and alone (as scripts/venv.sh does), so no other package pulls a different build.
RUN pip install --index-url "$TORCH_INDEX" "torch==${TORCH_VERSION}"
COPY requirements/ requirements/
RUN pip install -r requirements/base.txt
COPY . .

RUN useradd --create-home --uid 10001 mofsim \
 && mkdir -p /data && chown mofsim:mofsim /data
USER mofsim
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["deploy/docker/entrypoint.sh"]
CMD ["web"]
