"""A real daphne process serving the production ASGI stack against the test database.

Why a subprocess that *execs* (not ``daphne.testing.DaphneProcess``, which forks this process):
SQLite keeps per-process lock bookkeeping for every open database file. A child forked while any
thread of the test process held a connection to the file-based test database inherits that
bookkeeping, believes it holds locks it does not, and can write the database without them — CI
once saw "database disk image is malformed" right after a browser test. A fresh interpreter
shares nothing with this process but the environment and the listening socket.
"""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

START_TIMEOUT_S = 60


@contextmanager
def daphne_server(log_path: Path):
    """Yield the base URL of daphne serving ``tests.live_asgi`` on a free port of 127.0.0.1.

    The listening socket is bound here and handed over (``--fd``), so no other process can take
    the port between choosing and binding it. The server reads the test database this process
    set up (``tests.launcher_settings``) and inherits the test Redis namespace."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.launcher_settings",
        "MOFSIM_TEST_DB": str(connection.settings_dict["NAME"]),
    }
    command = [sys.executable, "-m", "daphne", "--fd", str(listener.fileno()), "-v", "1", "tests.live_asgi:application"]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
                                  pass_fds=(listener.fileno(),), start_new_session=True)  # fmt: skip
    listener.close()  # the server holds its own copy
    try:
        _wait_until_serving(server, url, log_path)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def _wait_until_serving(server: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"daphne exited with {server.returncode}:\n{log_path.read_text()[-4000:]}")
        try:
            requests.get(f"{url}/health/", timeout=5)
            return
        except requests.RequestException:  # the socket listens (backlog) before daphne serves it
            time.sleep(0.1)
    server.kill()
    pytest.fail(f"daphne did not serve within {START_TIMEOUT_S} s:\n{log_path.read_text()[-4000:]}")
