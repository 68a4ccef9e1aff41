"""Running one claimed task inside a worker process (the Django side of an executor run).

``TaskReporter`` persists what the executor reports — log lines (each pushed to the task's
websocket group after commit), throttled progress and metric points — and raises
``TaskCancelled`` once the row says CANCELLED. ``execute_task`` moves the task through
RUNNING → COMPLETED/FAILED/TIMEOUT, writes result.json + metrics.json with provenance and
archives the artifacts.
"""

import json
import logging
import math
import sys
import time
import traceback as tb
from pathlib import Path

from ase.io import read
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from dramatiq.middleware.time_limit import TimeLimitExceeded

from models_app import cache
from models_app.devices import device_info, pick_device
from models_app.loaders import D3_CUTOFF_A, package_versions
from nodes_app.inputs import ensure_local_model, ensure_local_structure
from tasks_app import events, executors
from tasks_app.archive import archive_artifacts
from tasks_app.choices import TaskStatus
from tasks_app.executors.base import ExecutorError, Reporter, TaskCancelled
from tasks_app.models import Task, TaskLogLine, TaskMetricPoint
from tasks_app.params import run_params
from tasks_app.state import IllegalTransition, transition

logger = logging.getLogger(__name__)
S = TaskStatus


class TaskTimeLimit(Exception):
    pass


def artifacts_dir(task) -> Path:
    return settings.WORKDIR / "artifacts" / str(task.pk)


class TaskReporter(Reporter):
    """Reporter that writes to the database and pushes to websockets, throttled."""

    PERSIST_EVERY_S = 1.0

    def __init__(self, task: Task, workdir: Path):
        super().__init__(workdir, logging.getLogger(f"mofsim.task.{str(task.pk)[:8]}"))
        self.task = task
        self._last_persist = 0.0
        self._deadline = time.monotonic() + task.time_limit_s if task.time_limit_s else None
        self._log_file = open(settings.WORKDIR / "logs" / f"{task.pk}.log", "a")  # noqa: SIM115

    def log(self, message: str, level: str = "INFO") -> None:
        super().log(message, level)
        self._log_file.write(f"{timezone.now().isoformat()} {level} {message}\n")
        self._log_file.flush()
        line = TaskLogLine.objects.create(task=self.task, level=level, source="executor", message=message)
        transaction.on_commit(lambda: events.log_line(self.task.pk, line))

    def on_progress(self, point: dict) -> None:
        now = time.monotonic()
        last = self.total is not None and self.step >= self.total
        if now - self._last_persist < self.PERSIST_EVERY_S and not last:
            return
        self._last_persist = now
        self.flush(point)

    def flush(self, point: dict | None = None) -> None:
        metrics = {k: v for k, v in (point or {}).items() if k != "step"}
        Task.objects.filter(pk=self.task.pk).update(
            progress_step=self.step, progress_total=self.total, progress=metrics, updated_at=timezone.now()
        )
        if point is not None:
            TaskMetricPoint.objects.create(task=self.task, step=point["step"], data=metrics)
        self.task.progress_step, self.task.progress_total, self.task.progress = self.step, self.total, metrics
        status = Task.objects.filter(pk=self.task.pk).values_list("status", flat=True).first()
        if status == S.CANCELLED:
            raise TaskCancelled()
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise TaskTimeLimit(f"time limit of {self.task.time_limit_s} s exceeded")
        events.progress(self.task, point)

    def close(self) -> None:
        self._log_file.close()


def strip_paths(text: str) -> str:
    """Tracebacks are shown to users: drop install roots so paths say only what matters."""
    for root, label in ((sys.prefix, "<venv>"), (str(settings.BASE_DIR), "<mofsim>")):
        text = text.replace(root, label)
    return text


def provenance(task: Task, device: str, wall_s: float, steps: int) -> dict:
    model = task.model
    structure = task.structure
    return {
        "task_id": str(task.pk),
        "kind": task.kind,
        "model": None
        if model is None
        else {"name": model.name, "family": model.family, "sha256": model.sha256, "config": model.config},
        "d3": bool(task.params.get("d3")),
        "d3_settings": d3_settings() if task.params.get("d3") else None,
        "structure": None
        if structure is None
        else {"name": structure.name, "sha256": structure.sha256, "n_atoms": structure.n_atoms},
        "params": task.params,
        "packages": package_versions(model.family if model else ""),
        "dtype": (model.config.get("default_dtype", "float32") if model and model.family != "emt" else "float64"),
        **device_info(device),
        "node": task.node.name if task.node_id else None,
        "wall_time_s": wall_s,
        "steps": steps,
        "steps_per_s": steps / wall_s if wall_s > 0 else None,
        "atom_steps_per_s": (steps * structure.n_atoms / wall_s) if (structure and wall_s > 0) else None,
        "finished_at": timezone.now().isoformat(),
    }


def d3_settings() -> dict:
    """What ``models_app.loaders.build_d3`` adds, recorded with every D3 result."""
    from importlib.metadata import version

    return {"package": "torch-dftd", "version": version("torch-dftd"), "xc": "pbe", "damping": "bj",
            "cutoff_a": D3_CUTOFF_A}  # fmt: skip


def load_structure(task: Task):
    local = ensure_local_structure(task.structure)  # None: this machine holds the server's files
    return task.structure.read_atoms() if local is None else read(local, format="extxyz")


def execute_task(task: Task, device: str | None = None) -> Task:
    """Run a task already in ASSIGNED. Never raises for task failures: they become states."""
    device = device or pick_device()
    entry = executors.get(task.kind)
    workdir = artifacts_dir(task)
    (settings.WORKDIR / "logs").mkdir(parents=True, exist_ok=True)
    try:
        transition(task, S.RUNNING, only_from=S.ASSIGNED, message=f"on {device}")
    except IllegalTransition:
        return task  # cancelled between claim and start
    reporter = TaskReporter(task, workdir)
    started = time.perf_counter()
    try:
        atoms = load_structure(task) if entry.needs_structure else None
        calc = None
        if entry.needs_model:
            reporter.log(f"loading model {task.model.name} on {device}")
            spec = ensure_local_model(task.model.spec())
            calc = cache.get_calculator(spec, device, d3=task.params.get("d3", False))
        params = run_params(task.kind, task.params, task.structure.reference if task.structure_id else None)
        result = entry.load_run()(atoms, calc, params, reporter)
        wall = time.perf_counter() - started
        result["provenance"] = provenance(task, device, wall, reporter.step)
        result = json_safe(result)
        reporter.flush(reporter.points[-1] if reporter.points else None)
    except TaskCancelled:
        reporter.log("stopped: task was cancelled", "WARNING")
        _finish_files(task, reporter, None)
        return _refresh(task)
    except (TimeLimitExceeded, TaskTimeLimit) as exc:
        _finish_files(task, reporter, None)
        _safe_transition(task, S.TIMEOUT, error=str(exc) or "time limit exceeded", level="ERROR")
        return _refresh(task)
    except ExecutorError as exc:
        reporter.log(str(exc), "ERROR")
        _finish_files(task, reporter, None)
        _safe_transition(task, S.FAILED, error=str(exc), level="ERROR")
        return _refresh(task)
    except Exception as exc:  # noqa: BLE001 - any error becomes a FAILED task with its traceback
        summary = f"{type(exc).__name__}: {exc}"
        reporter.log(summary, "ERROR")
        _finish_files(task, reporter, None)
        _safe_transition(task, S.FAILED, error=summary, traceback=strip_paths(tb.format_exc()), level="ERROR")
        return _refresh(task)
    finally:
        reporter.close()
    try:
        _finish_files(task, reporter, result)
        _safe_transition(task, S.COMPLETED, result=result)
    except Exception as exc:  # noqa: BLE001 - a result we cannot store must not leave the task RUNNING
        logger.exception("storing the result of task %s failed", task.pk)
        _safe_transition(task, S.FAILED, error=f"could not store the result: {type(exc).__name__}: {exc}",
                         traceback=strip_paths(tb.format_exc()), level="ERROR")  # fmt: skip
    return _refresh(task)


def json_safe(value):
    """Plain JSON for the database (PostgreSQL's jsonb has no NaN): numpy → Python, NaN/inf → None."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return json_safe(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _finish_files(task: Task, reporter: TaskReporter, result: dict | None) -> None:
    # The progress series is metrics.json, unless the executor wrote its own metrics.json (a
    # training job's per-fold metrics): then the series goes to series.json.
    metrics = reporter.workdir / "metrics.json"
    series = reporter.workdir / ("series.json" if metrics.exists() else "metrics.json")
    series.write_text(json.dumps(reporter.points))
    if result is not None:
        (reporter.workdir / "result.json").write_text(json.dumps(result, indent=2, default=str))
    log_path = settings.WORKDIR / "logs" / f"{task.pk}.log"
    if log_path.exists():
        (reporter.workdir / "task.log").write_bytes(log_path.read_bytes())
    archive_artifacts(task, reporter.workdir)


def _safe_transition(task: Task, target: str, **fields) -> None:
    try:
        transition(task, target, only_from=S.RUNNING, **fields)
    except IllegalTransition as exc:
        logger.info("not recording %s for task %s: %s (already %s)", target, task.pk, exc, exc.current)


def _refresh(task: Task) -> Task:
    task.refresh_from_db()
    return task
