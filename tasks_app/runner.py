"""Running one claimed task inside a worker process (the Django side of an executor run).

``execute_task`` runs one *attempt* under its lease (``tasks_app.state.Lease``): the process's
``LeaseKeeper`` thread renews the lease and notices cancel or fail-over, the ``TaskReporter``
writes log lines, progress and metric points in small fenced batches (only while the attempt
holds the task), every force call of the calculator checks the keeper's flag and the time limit
(so cancel and time limits act within one step whatever the task type), and the final state,
result and artifact rows are written in one fenced transaction — retried on a fresh database
connection, and left to the lease reaper if even that fails. Files go to the attempt's own
folder, so two attempts never mix theirs.
"""

import hashlib
import json
import logging
import math
import sys
import time
import traceback as tb
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from ase import Atoms
from ase.io import read
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone
from dramatiq.middleware.time_limit import TimeLimitExceeded

from models_app import cache
from models_app.devices import device_info, pick_device
from models_app.hub_weights import ensure_hub_weights
from models_app.loaders import D3_CUTOFF_A, package_versions
from mofsim_site import executors
from mofsim_site.executors import ExecutorError, Reporter, TaskCancelled
from mofsim_site.push import one_answer
from tasks_app import events, structure_cache
from tasks_app.archive import archive_files, artifact_rows, record
from tasks_app.choices import TaskStatus
from tasks_app.inputs import ensure_local_model, ensure_local_structure
from tasks_app.leases import Holding, drop_connection, held
from tasks_app.models import Task, TaskLogLine, TaskMetricPoint
from tasks_app.params import run_params
from tasks_app.speed import ForceCounter, speed_record
from tasks_app.state import HELD, IllegalTransition, Lease, LeaseLost, finish, forget, keep, transition

logger = logging.getLogger(__name__)
S = TaskStatus
FINAL_WRITE_TRIES = 6  # with backoff 0.5, 1, 2, 4, 8 s: a database restart is survived


class TaskTimeLimit(Exception):
    pass


def artifacts_dir(task) -> Path:
    """The attempt's work directory: ``artifacts/<task_id>/a<attempt>/`` under WORKDIR."""
    return settings.WORKDIR / "artifacts" / str(task.pk) / f"a{task.attempts}"


class TaskReporter(Reporter):
    """Reporter that writes to the database (fenced by the lease, batched) and pushes to websockets.

    Log lines and metric points are buffered and written together with the progress columns at
    most every ``PERSIST_EVERY_S`` (warnings and errors at once), in one transaction whose first
    statement is the conditional UPDATE on the lease token: a stale attempt writes nothing. What
    is still pending when the executor returns goes into the transaction that records the final
    state (``take_pending``), so a short task writes its lines, points and progress there, with
    no batch of its own.
    """

    PERSIST_EVERY_S = 1.0

    def __init__(self, task: Task, workdir: Path, lease: Lease | None = None, holding: Holding | None = None):
        super().__init__(workdir, logging.getLogger(f"mofsim.task.{str(task.pk)[:8]}"))
        self.task = task
        self.lease = lease or Lease.of(task)
        self.holding = holding
        self._last_persist = time.monotonic()  # the first second's lines go out together
        self._pending_lines: list[TaskLogLine] = []
        self._pending_points: list[dict] = []
        self._deadline = time.monotonic() + task.time_limit_s if task.time_limit_s else None
        # The attempt's log file is its task.log artifact, hashed as it is written (not copied
        # and read back at the end).
        self._log_file = open(self.workdir / "task.log", "wb")  # noqa: SIM115
        self._log_digest = hashlib.sha256()

    def check(self) -> None:
        """Stop computing if the task was cancelled, the attempt lost its lease, or time ran out."""
        lost = self.holding.lost if self.holding is not None else None
        if lost == "cancelled":
            raise TaskCancelled()
        if lost:
            raise LeaseLost(self.task.pk, "elsewhere", "progress")
        if self._deadline is not None and time.monotonic() > self._deadline:
            raise TaskTimeLimit(f"time limit of {self.task.time_limit_s} s exceeded")

    def log(self, message: str, level: str = "INFO") -> None:
        super().log(message, level)
        data = f"{timezone.now().isoformat()} {level} {message}\n".encode()
        self._log_file.write(data)
        self._log_file.flush()
        self._log_digest.update(data)
        self._pending_lines.append(TaskLogLine(task_id=self.task.pk, level=level, source="executor", message=message))
        if level in ("WARNING", "ERROR") or time.monotonic() - self._last_persist >= self.PERSIST_EVERY_S:
            self.flush(final=True)  # a lost lease stops the executor at its next check, not mid-log

    def on_progress(self, point: dict) -> None:
        self.check()
        self._pending_points.append(point)
        if time.monotonic() - self._last_persist < self.PERSIST_EVERY_S:
            return  # the last point of a run is written with its final state at the latest
        self.flush(point)

    def take_pending(self) -> tuple[list[TaskLogLine], list[dict], dict]:
        """Hand over what is not written yet: log lines, metric points and the progress columns."""
        lines, points = self._pending_lines, self._pending_points
        self._pending_lines, self._pending_points = [], []
        progress: dict[str, Any] = {"progress_step": self.step, "progress_total": self.total}
        if self.points:
            progress["progress"] = _without_step(self.points[-1])
        return lines, points, progress

    def flush(self, point: dict | None = None, final: bool = False) -> None:
        """Write what is pending. Raises TaskCancelled/LeaseLost when the attempt lost the task
        (unless ``final``: the attempt is ending anyway and only wants its last lines kept)."""
        self._last_persist = time.monotonic()
        if final and point is None and not self._pending_lines and not self._pending_points:
            return  # nothing to keep: no write (the lease keeper watches the lease meanwhile)
        lines, points = self._pending_lines, self._pending_points
        self._pending_lines, self._pending_points = [], []
        if point is None and points:
            point = points[-1]  # points written by a log line's flush reach the live chart too
        metrics = _without_step(point or {})
        progress: dict[str, Any] = {"progress_step": self.step, "progress_total": self.total}
        if point is not None:
            progress["progress"] = metrics
        state = with_fresh_connection(lambda: self.write_fenced(lines, points, progress), tries=3)
        if state == "held":
            self.task.progress_step, self.task.progress_total = self.step, self.total
            if point is not None:
                self.task.progress = metrics
                events.progress(self.task, point, points)
        elif not final:
            if state == "cancelled":
                raise TaskCancelled()
            raise LeaseLost(self.task.pk, state, "progress")

    def write_fenced(self, lines: list[TaskLogLine], points: list[dict], progress: dict) -> str:
        with transaction.atomic():
            mine = Task.objects.filter(pk=self.task.pk, lease_token=self.lease.token)
            if mine.filter(status__in=HELD).update(updated_at=timezone.now(), **progress):
                state = "held"
            elif mine.filter(status=S.CANCELLED).exists():
                state = "cancelled"  # the attempt's own last lines are still kept
            else:
                return "lost"  # another attempt (or the queue) owns the task: write nothing
            created = TaskLogLine.objects.bulk_create(lines) if lines else []
            if points and state == "held":
                TaskMetricPoint.objects.bulk_create(
                    TaskMetricPoint(task_id=self.task.pk, step=p["step"], data=_without_step(p)) for p in points
                )

            transaction.on_commit(lambda: events.log_lines(self.task.pk, created))
        return state

    def log_sha256(self) -> str:
        """The hash of task.log as written so far."""
        return self._log_digest.hexdigest()

    def close(self) -> None:
        self._log_file.close()


def _without_step(point: dict) -> dict:
    return {k: v for k, v in point.items() if k != "step"}


def with_fresh_connection(write, tries: int = FINAL_WRITE_TRIES):
    """Run ``write()``; on a database error drop the connection and retry with backoff.

    A connection killed under a worker (database restart, failover, idle timeout) must not turn
    into a task stuck in RUNNING: the next try opens a new one.
    """
    delay = 0.5
    for attempt in range(tries):
        try:
            return write()
        except DatabaseError:
            if attempt == tries - 1:
                raise
            logger.warning("database write failed; retrying on a fresh connection in %.1f s", delay, exc_info=True)
            drop_connection()
            time.sleep(delay)
            delay *= 2


@contextmanager
def checked_calculator(calc, check, counter: ForceCounter | None = None):
    """Make every calculation of ``calc`` call ``check()`` first (cancel, lease, time limit).

    Each optimizer step, MD step, phonon displacement and E(V) point goes through the
    calculator, so this one hook makes every task type stop within one force call — and counts
    the force evaluations for the speed record (``tasks_app.speed``). The model cache shares
    the calculator between tasks, so the hook is removed afterwards.
    """
    if calc is None:
        yield calc
        return
    _forget_results(calc)
    inner = calc.calculate

    def calculate(*args, **kwargs):
        check()
        if counter is not None:
            counter.add(args[0] if args else kwargs.get("atoms"))
        return inner(*args, **kwargs)

    calc.calculate = calculate
    try:
        yield calc
    finally:
        del calc.calculate  # the class's method again


def _forget_results(calc) -> None:
    """The cached calculator may hold the last task's results for the same atoms: make it recompute
    (so each task's force calls run, and are counted and timed). ASE's ``Calculator`` has
    ``reset``; a ``BaseCalculator`` such as the D3 ``SumCalculator`` keeps ``results`` and
    ``atoms`` only, and its parts (the model, D3) keep their own: forgotten too, or a second task
    on the same structure got the model's previous numbers without running it, and a speed record
    of a few microseconds."""
    if callable(getattr(calc, "reset", None)):
        calc.reset()
    else:
        calc.results = {}
        calc.atoms = None
    for part in getattr(getattr(calc, "mixer", None), "calcs", ()):
        _forget_results(part)


def strip_paths(text: str) -> str:
    """Tracebacks are shown to users: drop install roots so paths say only what matters."""
    for root, label in ((sys.prefix, "<venv>"), (str(settings.BASE_DIR), "<mofsim>")):
        text = text.replace(root, label)
    return text


def provenance(task: Task, device: str, wall_s: float, speed: dict) -> dict:
    """What makes a result comparable and reproducible (DESIGN.md rule 8); ``speed`` is
    ``tasks_app.speed.speed_record``'s (steps, steps/s, atoms·steps/s of the executor's run)."""
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
        "node": task.node.name if task.node is not None else None,
        "wall_time_s": wall_s,
        **speed,
        "finished_at": timezone.now().isoformat(),
    }


def d3_settings() -> dict:
    """What ``models_app.loaders.build_d3`` adds, recorded with every D3 result."""
    from importlib.metadata import version

    return {"package": "torch-dftd", "version": version("torch-dftd"), "xc": "pbe", "damping": "bj",
            "cutoff_a": D3_CUTOFF_A}  # fmt: skip


def load_structure(task: Task):
    structure = task.structure
    assert structure is not None, "the kind needs a structure; the submit API required one"
    local = ensure_local_structure(structure)  # None: this machine holds the server's files
    path, file_format = structure.atoms_file() if local is None else (local, "extxyz")
    # parsed once per process; ``read`` without an index gives the one (last) image
    return structure_cache.read(path, lambda: cast(Atoms, read(path, format=file_format)))


def execute_task(task: Task, device: str | None = None) -> Task:
    """Run the attempt that just claimed ``task`` — ASSIGNED, or already RUNNING when its claim
    started it (``transition(..., start=...)``). Task failures become states, never raise."""
    device = device or pick_device()
    lease = Lease.of(task)
    with held(lease) as holding:
        if task.status == S.ASSIGNED:
            try:
                transition(task, S.RUNNING, only_from=S.ASSIGNED, lease=lease, message=f"on {device}")
            except IllegalTransition:
                return _refresh(task)  # cancelled or failed over between claim and start
        reporter = TaskReporter(task, artifacts_dir(task), lease, holding)
        try:
            outcome = _compute(task, reporter, device)
            recorded = _finish(task, lease, reporter, *outcome)
        finally:
            reporter.close()
    return task if recorded else _refresh(task)  # recorded: the instance is what was written


def _compute(task: Task, reporter: TaskReporter, device: str, run=None) -> tuple[str | None, dict]:
    """Run the executor; returns the final state to record (None: nothing, the row decided) and its fields.

    ``run`` replaces the kind's executor function (same contract): ``tasks_app.group_run`` passes
    one that takes the task's share of a batched pass instead of computing it again."""
    entry = executors.get(task.kind)
    started = time.perf_counter()
    try:
        if task.attempts > 1:
            reporter.log(f"attempt {task.attempts} of {settings.TASK_MAX_ATTEMPTS}")
        atoms = load_structure(task) if entry.needs_structure else None
        calc = None
        if entry.needs_model:
            model = task.model
            assert model is not None, "the kind needs a model; the submit API set the default"
            reporter.log(f"loading model {model.name} on {device}")
            spec = ensure_hub_weights(model, ensure_local_model(model.spec()))  # provenance sees its checksum
            calc = cache.get_calculator(spec, device, d3=task.params.get("d3", False))
        reference = task.structure.reference if task.structure is not None else None
        params = run_params(task.kind, task.params, reference)
        prepare, finish = entry.load_prepare(), entry.load_finish()
        if prepare is not None:
            params = prepare(task, params, device)
        reporter.check()
        counter = ForceCounter()
        run_started = time.perf_counter()
        with checked_calculator(calc, reporter.check, counter):
            result = (run or entry.load_run())(atoms, calc, params, reporter)
        speed = speed_record(counter if calc is not None else None, result, time.perf_counter() - run_started,
                             reporter.step)  # fmt: skip
        reporter.check()
        if finish is not None:
            result = finish(task, result, reporter.workdir)
        result["provenance"] = provenance(task, device, time.perf_counter() - started, speed)
        return S.COMPLETED, {"result": json_safe(result)}
    except TaskCancelled:
        _log_quietly(reporter, "stopped: task was cancelled", "WARNING")
        return None, {}
    except LeaseLost as exc:
        logger.warning("task %s attempt %s stopped: %s", task.pk, task.attempts, exc)
        return None, {}
    except (TimeLimitExceeded, TaskTimeLimit) as exc:
        return S.TIMEOUT, {"error": str(exc) or "time limit exceeded"}
    except ExecutorError as exc:
        _log_quietly(reporter, str(exc), "ERROR")
        return S.FAILED, {"error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - any error becomes a FAILED task with its traceback
        summary = f"{type(exc).__name__}: {exc}"
        _log_quietly(reporter, summary, "ERROR")
        return S.FAILED, {"error": summary, "traceback": strip_paths(tb.format_exc())}


def _log_quietly(reporter: TaskReporter, message: str, level: str) -> None:
    """Log on the error path; a database that is down here must not hide the error itself."""
    try:
        reporter.log(message, level)
    except DatabaseError:
        logger.warning("could not log %r for task %s", message, reporter.task.pk, exc_info=True)


def _finish(task: Task, lease: Lease, reporter: TaskReporter, target: str | None, fields: dict) -> bool:
    """Keep the attempt's last lines and files, and record its final state — all fenced by the lease.

    Returns whether the final state was recorded (the instance then holds the row as written).
    """
    try:
        if target is None:  # stopped (cancelled, lease lost): only its last lines are kept
            with_fresh_connection(lambda: reporter.flush(final=True))
        stored = archive_files(task, lease, reporter.workdir, _write_files(reporter, fields.get("result")))
    except Exception as exc:  # noqa: BLE001 - files we cannot archive must not leave the task RUNNING
        logger.exception("archiving the files of task %s failed", task.pk)
        stored = []
        if target is not None:
            target, fields = S.FAILED, {"error": f"could not archive the results: {type(exc).__name__}: {exc}",
                                        "traceback": strip_paths(tb.format_exc())}  # fmt: skip
    pending = reporter.take_pending()
    try:
        return with_fresh_connection(lambda: _record_final(task, lease, target, fields, stored, reporter, pending))
    except LeaseLost as exc:
        logger.warning("task %s attempt %s: %s", task.pk, lease.attempt, exc)
    except DatabaseError:
        logger.exception("could not record the end of task %s; its lease will expire and be failed over", task.pk)
    except Exception as exc:  # noqa: BLE001 - e.g. a result the database refuses
        logger.exception("storing the result of task %s failed", task.pk)
        error = f"could not store the result: {type(exc).__name__}: {exc}"
        fields = {"error": error, "traceback": strip_paths(tb.format_exc())}
        try:
            return with_fresh_connection(
                lambda: _record_final(task, lease, S.FAILED, fields, stored, reporter, pending)
            )
        except (IllegalTransition, DatabaseError):
            logger.exception("could not record the failure of task %s either", task.pk)
    return False


Pending = tuple[list[TaskLogLine], list[dict], dict]


def _record_final(task: Task, lease: Lease, target: str | None, fields: dict, stored: list, reporter: TaskReporter,
                  pending: Pending) -> bool:  # fmt: skip
    """One fenced write of the final state with the reporter's pending lines, points and progress,
    and the artifact rows: one statement where the database allows (``state.finish``), else one
    transaction. Safe to retry: the rows are rebuilt on every try.

    Its pushes (log lines, status, progress: all for the task page's group, all run at the
    commit, which is inside this call) ask once whether a page is open (``one_answer``)."""
    with one_answer():
        return _record_final_once(task, lease, target, fields, stored, reporter, pending)


def _record_final_once(task: Task, lease: Lease, target: str | None, fields: dict, stored: list,
                       reporter: TaskReporter, pending: Pending) -> bool:  # fmt: skip
    held, points, progress = pending
    level = "INFO" if target == S.COMPLETED else "ERROR"

    def rebuilt():
        return ([TaskLogLine(task_id=task.pk, level=x.level, source=x.source, message=x.message) for x in held],
                [TaskMetricPoint(task_id=task.pk, step=p["step"], data=_without_step(p)) for p in points])  # fmt: skip

    lines, rows = rebuilt()
    artifacts = artifact_rows(task.pk, lease.attempt, stored)
    if target is not None and finish(task, target, lease=lease, lines=lines, points=rows, artifacts=artifacts,
                                     level=level, **progress, **fields):  # fmt: skip
        _push_points(task, points)
        return True
    lines, rows = rebuilt()  # not written: the reference path below (which also says why)
    with transaction.atomic():
        if target is not None:
            # Registered first, so the page gets the executor's lines before the transition's own;
            # only lines the transition inserted (they have an id) are pushed.
            transaction.on_commit(lambda: events.log_lines(task.pk, [x for x in lines if x.pk]))
            # The artifact rows first, so the pushed fragment lists them without a query; a lost
            # lease below rolls them back with everything else.
            keep(task, "artifacts", record(task.pk, lease.attempt, stored))
            try:
                transition(task, target, only_from=S.RUNNING, lease=lease, lines=lines, **progress, level=level,
                           **fields)  # fmt: skip
            except LeaseLost:
                raise
            except IllegalTransition as exc:  # cancelled at the last moment: keep its files, not the result
                logger.info("not recording %s for task %s: already %s", target, task.pk, exc.current)
                forget(task, "artifacts")
            else:
                if points:
                    TaskMetricPoint.objects.bulk_create(rows)
                    _push_points(task, points)
                return True
        if lines or points:
            reporter.write_fenced(lines, points, progress)  # fenced: kept only while the lease is ours
        if target is None and Task.objects.select_for_update().filter(pk=task.pk, lease_token=lease.token).exists():
            record(task.pk, lease.attempt, stored)  # (with a target they were recorded above)
    return False


def _push_points(task: Task, points: list[dict]) -> None:
    """A run shorter than PERSIST_EVERY_S pushed no point yet: the open page's chart gets the
    points since the last push with the final state (one message, after commit)."""
    if points:
        last = points[-1]
        transaction.on_commit(lambda: events.progress(task, last, points))


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


def _write_files(reporter: TaskReporter, result: dict | None) -> dict[str, str]:
    """Write the platform's files into the attempt's folder, each once, hashed from memory;
    returns their hashes by name (task.log was hashed as it was written), so archiving reads
    back only what the executor wrote."""
    # The progress series is metrics.json, unless the executor wrote its own metrics.json (a
    # training job's per-fold metrics): then the series goes to series.json.
    metrics = reporter.workdir / "metrics.json"
    series = "series.json" if metrics.exists() else "metrics.json"
    hashes = {series: _write_hashed(reporter.workdir / series, json.dumps(reporter.points).encode())}
    if result is not None:
        data = json.dumps(result, indent=2, default=str).encode()
        hashes["result.json"] = _write_hashed(reporter.workdir / "result.json", data)
    hashes["task.log"] = reporter.log_sha256()
    return hashes


def _write_hashed(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _refresh(task: Task) -> Task:
    task.refresh_from_db()
    return task
