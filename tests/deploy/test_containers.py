"""Containers, tested without Docker (none in CI): deploy/compose.yaml is checked for the shape
the compose spec and our operations need, and the image's entrypoint runs its sub-commands
against the embedded default (SQLite + embedded Redis) in a temporary WORKDIR."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "docker" / "entrypoint.sh"
APP_SERVICES = {"migrate", "web", "worker-gpu0", "worker-gpu1", "service", "housekeeping"}


@pytest.fixture(scope="module")
def compose():
    env = {"POSTGRES_PASSWORD": "x", "SECRET_KEY": "y"}
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        out = subprocess.run([docker, "compose", "-f", ROOT / "deploy/compose.yaml", "config"],
                             capture_output=True, text=True, env={**os.environ, **env})  # fmt: skip
        assert out.returncode == 0, out.stderr
    return yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())


def entrypoint_roles() -> set[str]:
    return set(re.findall(r"^  ([a-z-]+)\)$", ENTRYPOINT.read_text(), re.M))


def test_compose_starts_every_role_with_health_checks(compose):
    services = compose["services"]
    assert set(services) == APP_SERVICES | {"postgres", "redis"}
    for name, service in services.items():
        check = service.get("healthcheck", {})
        if name == "migrate":
            assert check.get("disable") is True and service["restart"] == "no"
            continue
        assert check["test"][0] == "CMD" and check["interval"], name
    assert "health-web" in services["web"]["healthcheck"]["test"]


def test_compose_app_services_wait_for_the_database_redis_and_migrations(compose):
    services = compose["services"]
    for name in APP_SERVICES:
        service = services[name]
        assert service["command"][0] in entrypoint_roles(), name
        deps = service["depends_on"]
        assert deps["postgres"]["condition"] == deps["redis"]["condition"] == "service_healthy", name
        if name != "migrate":
            assert deps["migrate"]["condition"] == "service_completed_successfully", name
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?"), "secrets only from the environment"
        assert "workdir:/data" in service["volumes"]


def test_compose_gives_each_worker_one_gpu(compose):
    seen = []
    for name in ("worker-gpu0", "worker-gpu1"):
        service = compose["services"][name]
        (device,) = service["deploy"]["resources"]["reservations"]["devices"]
        assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
        seen += device["device_ids"]
        assert service["command"] == ["worker"] and service["environment"]["MOFSIM_NODE_PREFIX"] == name
    assert seen == ["0", "1"]


def test_the_dockerfile_runs_the_entrypoint_as_a_non_root_user():
    text = (ROOT / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert "bubblewrap" in text and "ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu" in text
    assert re.search(r"^USER mofsim$", text, re.M)
    assert 'ENTRYPOINT ["deploy/docker/entrypoint.sh"]' in text
    assert os.access(ENTRYPOINT, os.X_OK)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.db_independent
@pytest.mark.slow
def test_the_entrypoint_migrates_checks_and_serves_on_the_embedded_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "BROKER_URL", "SECRET_KEY"}}
    port = free_port()
    env.update(WORKDIR=str(tmp_path / "data"), PYTHON=sys.executable, MOFSIM_SETS="essential", PORT=str(port))

    def run(*args, timeout=300):
        return subprocess.run([str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=timeout)

    migrated = run("migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "data" / "db.sqlite3").exists()
    assert run("check").returncode == 0
    assert run("health-web").returncode != 0  # nothing serving yet: the check must be able to fail

    web = subprocess.Popen([str(ENTRYPOINT), "web"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while run("health-web", timeout=30).returncode != 0:
            assert web.poll() is None, web.stderr.read().decode()
            assert time.monotonic() < deadline, "web never became healthy"
            time.sleep(1)
        assert (tmp_path / "data" / "static" / "vendor").is_dir()  # collectstatic ran
        assert run("health-worker").returncode != 0  # no worker registered in this WORKDIR
    finally:
        web.terminate()
        web.wait(timeout=30)
        from mofsim_site import embedded_redis

        embedded_redis.stop(tmp_path / "data")  # the embedded server outlives the processes that used it
