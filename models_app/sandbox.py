"""Run ``models_app.sandbox_child`` inside bubblewrap: the only place an uploaded pickle is opened.

The sandbox gets an empty environment (no SECRET_KEY, DATABASE_URL, tokens, cloud keys), its own
user/PID/network/IPC namespaces (no network at all, uid 65534), a fresh session (no terminal
injection), read-only system, interpreter and venv paths, the three code files it runs, the input
file read-only at ``/sandbox/in/<name>`` and one writable output directory at
``/sandbox/out``. WORKDIR, the database and the repository are not mounted, so there is nothing
to read or to overwrite. CPU time, memory and file size are capped with rlimits and the wall
time with a timeout; ``--die-with-parent`` takes the sandbox down with the worker.

Nothing the sandbox prints is trusted: the caller (``models_app.validation``) checks what it
wrote to the output directory.
"""

import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

APP_FILES = ("__init__.py", "mace_format.py", "sandbox_child.py")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime")


@dataclass(frozen=True)
class Limits:
    cpu_s: int = 300
    memory_bytes: int = 8 * 1024**3
    file_bytes: int = 4 * 1024**3
    wall_s: int = 360


class SandboxUnavailable(Exception):
    pass


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def _rlimits(limits: Limits):
    def apply():
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _python() -> tuple[Path, list[Path]]:
    """The venv interpreter to run and the (resolved) directories it needs to start."""
    venv = Path(sys.prefix).resolve()
    base = Path(sys.base_prefix).resolve()
    return venv / "bin" / "python", [venv, base]


def _ro(paths) -> list[str]:
    args = []
    for path in paths:
        if os.path.exists(path):
            args += ["--ro-bind", str(path), str(path)]
    return args


def bwrap_argv(bwrap: str, input_file: Path, output_dir: Path, args: list[str]) -> list[str]:
    python, python_dirs = _python()
    app = Path(__file__).resolve().parent
    code = []
    for name in APP_FILES:
        code += ["--ro-bind", str(app / name), f"/sandbox/app/models_app/{name}"]
    return [
        bwrap,
        "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
        "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/tmp",
        "--setenv", "OMP_NUM_THREADS", "1", "--setenv", "CUDA_VISIBLE_DEVICES", "",
        "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        # /tmp first: the binds below may lie under it (a checkout or venv in /tmp) and must not be hidden
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin", *_ro(ETC_FILES), *_ro(python_dirs),
        "--dir", "/sandbox/app", *code,
        "--ro-bind", str(input_file), f"/sandbox/in/{input_file.name}",
        "--bind", str(output_dir), "/sandbox/out",
        "--chdir", "/sandbox/app",
        str(python), "-m", "models_app.sandbox_child", *args,
    ]  # fmt: skip


def unsandboxed_argv(args: list[str]) -> list[str]:
    """The same child without bubblewrap: only with ``MODEL_SANDBOX_UNSAFE`` (a dev box)."""
    python, _ = _python()
    return [str(python), "-m", "models_app.sandbox_child", *args]


def run_child(input_file: Path, output_dir: Path, args: list[str], limits: Limits, unsafe: bool = False):
    """Run the child on ``input_file`` writing into ``output_dir``; returns the CompletedProcess.

    ``args`` are passed to the child; ``{in}`` and ``{out}`` in them become the paths the child
    sees. Raises ``SandboxUnavailable`` without bwrap unless ``unsafe``, and
    ``subprocess.TimeoutExpired`` after ``limits.wall_s``.
    """
    bwrap = bwrap_path()
    if bwrap:
        mapping = {"{in}": f"/sandbox/in/{input_file.name}", "{out}": "/sandbox/out"}
        argv = bwrap_argv(bwrap, input_file, output_dir, [mapping.get(a, a) for a in args])
        env, cwd = {}, None
    elif unsafe:
        mapping = {"{in}": str(input_file), "{out}": str(output_dir)}
        argv = unsandboxed_argv([mapping.get(a, a) for a in args])
        env = {"PATH": "/usr/bin:/bin", "HOME": str(output_dir), "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
        cwd = output_dir
    else:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so model files cannot be opened safely; install the "
            "Debian package 'bubblewrap' (or set MODEL_SANDBOX_UNSAFE=true on a trusted dev box)"
        )
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=limits.wall_s, env=env, cwd=cwd,
        preexec_fn=_rlimits(limits), start_new_session=True,
    )  # fmt: skip
