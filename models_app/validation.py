"""Validate an untrusted model file in a separate, resource-limited process.

Loading a PyTorch model file unpickles it, which can run arbitrary code, so it never happens in
the web process: ``validate_model_file`` runs ``python -m models_app.validate_child`` with CPU
time, memory and file-size limits, a scrubbed environment (no secrets, no database URL) and a
wall-clock timeout, and reads one JSON line back. The child loads the model on CPU and computes
energy/forces/stress for a small cell of elements the model supports.
"""

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from django.conf import settings

CPU_SECONDS = 300
MEMORY_BYTES = 8 * 1024**3
TIMEOUT_S = 360


def _limits():
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024**2, 64 * 1024**2))
    os.setsid()


def validate_model_file(family: str, path: Path, dtype: str = "float64") -> tuple[bool, str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(settings.WORKDIR / "tmp"),
        "OMP_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "",
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "models_app.validate_child", family, str(path), dtype],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
            env=env,
            preexec_fn=_limits,
            cwd=settings.WORKDIR / "tmp",
        )
    except subprocess.TimeoutExpired:
        return False, f"validation took longer than {TIMEOUT_S} s"
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return False, f"model did not load: {tail[0][:300]}"
    report = json.loads(lines[-1])
    return bool(report.get("ok")), report.get("message", "")
