"""Run a parser over untrusted input in a child process with memory, CPU and wall-time limits.

Uploaded files (structures, datasets) are data, not code, but parsing them can still cost
unbounded memory or time (symmetry expansion, pathological text). The web process must not pay
that: ``run_limited`` starts ``python -m <module> <args>`` with a minimal environment and a few
threads, the child calls ``apply_limits()`` first thing (``RLIMIT_AS``, ``RLIMIT_CPU``,
``RLIMIT_FSIZE``), does its work and prints one JSON object as its last stdout line. A child that
runs out of memory, CPU or wall time is reported as ``LimitExceeded`` naming the limit, never as
a raw exception. No Django here: both sides import this module.
"""

import json
import os
import resource
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_ENV_KEY = "MOFSIM_CHILD_LIMITS"


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    cpu_seconds: int
    wall_seconds: float
    file_bytes: int


class LimitExceeded(RuntimeError):
    """The child was stopped by a resource limit; the message names it."""


def run_limited(module: str, args: list[str], limits: Limits, stdin: bytes = b"") -> dict:
    """The child's JSON result; ``LimitExceeded`` when it ran out of memory, CPU or time.

    Large inputs go through ``stdin`` (argv is capped at 128 KiB per argument on Linux).
    """
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT),
        "LANG": "C.UTF-8",
        # One BLAS/OpenMP thread: each extra thread reserves address space under RLIMIT_AS.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        _ENV_KEY: json.dumps([limits.memory_bytes, limits.cpu_seconds, limits.file_bytes]),
    }
    try:
        proc = subprocess.run(
            [sys.executable, "-m", module, *args],
            env=env,
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            timeout=limits.wall_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LimitExceeded(f"took longer than {limits.wall_seconds:g} s") from exc
    memory = f"ran out of memory (limit {limits.memory_bytes // 2**20} MiB)"
    lines = proc.stdout.decode("utf-8", "replace").strip().splitlines()
    if proc.returncode == 0 and lines:
        try:
            out = json.loads(lines[-1])
        except json.JSONDecodeError:
            out = None
        if isinstance(out, dict):
            if out.get("limit") == "memory":
                raise LimitExceeded(memory)
            return out
    if proc.returncode == -signal.SIGXCPU:
        raise LimitExceeded(f"used more than {limits.cpu_seconds} s of CPU")
    # Anything else that died without an answer: with RLIMIT_AS set this is nearly always a
    # failed allocation inside C code (numpy, the CIF tokenizer) rather than Python's MemoryError.
    raise LimitExceeded(f"{memory} or crashed")


def apply_limits() -> None:
    """Called first in the child: install the limits the parent passed in the environment."""
    memory, cpu, fsize = json.loads(os.environ[_ENV_KEY])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))


def child_main(work, *args) -> None:
    """Child entry: limits, then ``work(*args)`` whose dict (or user-facing error) is printed."""
    apply_limits()
    try:
        out = work(*args)
    except MemoryError:
        out = {"ok": False, "limit": "memory"}
    sys.stdout.write(json.dumps(out) + "\n")
