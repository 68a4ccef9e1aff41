"""The executor contract (DESIGN.md rule 3) and the registry of task kinds — shared plumbing.

Every app that brings a kind of work uses this module and nothing of the others: the task core
(``tasks_app``) runs whatever is registered here, MOFSimBench executors register from
``tasks_app``'s ``ready()``, training executors from ``models_app``'s. Adding a task type is a
``register(ExecutorEntry(...))`` call in an app's ``ready()``; the core needs no change.

An executor is ``run(atoms, calculator, params, report) -> dict``:

* ``atoms`` — an ``ase.Atoms`` (``None`` for kinds that need no structure, e.g. training);
* ``calculator`` — a ready ASE calculator on the worker's device (``None`` if not needed);
* ``params`` — validated parameters with every default filled in;
* ``report`` — a ``Reporter``: progress, metric series, log lines, the artifact directory;
* the return value — a JSON-serialisable result dict. Files go into ``report.workdir``.

What needs the platform (the ORM, settings, node credentials) is not the executor's business:
an entry's optional ``prepare`` step resolves it into plain ``params`` before ``run``, and its
``finish`` step records what ``run`` produced (training uses both: ``models_app.training.steps``).

An executor raises ``ExecutorError`` for a failure it diagnosed itself (exploded system, no
convergence where that is fatal); anything else is an unexpected error. ``report.progress`` and
``report.check`` may raise ``TaskCancelled`` when the platform cancelled the task; executors let
it propagate. The same executors run in workers, in ``enqueue_benchmark --sync`` and in tests.
Executor and parameter classes are named by dotted path and imported lazily, so the web process
never imports ASE dynamics or torch just to list task types.
"""

import logging
import math
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from rest_framework import serializers

PRESET_CHOICES = ("protocol", "quick")


class ExecutorError(Exception):
    """A failure the executor diagnosed (shown to the user as the task's error)."""


class TaskCancelled(Exception):
    """Raised from ``Reporter.progress``/``check`` when the task was cancelled on the platform."""


class Reporter:
    """Base reporter: keeps everything in memory. The worker's subclass persists and pushes."""

    def __init__(self, workdir: Path | str, logger: logging.Logger | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.logger = logger or logging.getLogger("mofsim.executor")
        self.points: list[dict] = []
        self.lines: list[tuple[str, str]] = []
        self.step = 0
        self.total: int | None = None

    def log(self, message: str, level: str = "INFO") -> None:
        self.lines.append((level, message))
        self.logger.log(logging.getLevelName(level), message)

    def progress(self, step: int, total: int | None = None, **metrics) -> None:
        """Report the current step (of ``total``) and metrics of this step (energy, fmax, …)."""
        self.step, self.total = step, total
        point = {"step": step, **{k: _clean(v) for k, v in metrics.items()}}
        self.points.append(point)
        self.on_progress(point)

    def check(self) -> None:
        """Called between units of work (batches, epochs): raises to stop (cancel, time limit)."""

    def on_progress(self, point: dict) -> None:
        """Hook for subclasses (persist, push, check for cancellation)."""


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


@dataclass(frozen=True)
class ExecutorEntry:
    kind: str
    label: str
    run: str  # dotted path of run(atoms, calculator, params, report)
    params: str  # dotted path of the ParamsSerializer subclass validating params
    needs_structure: bool = True
    needs_model: bool = True
    # Optional platform steps around a plain executor, run by the worker (they may use Django):
    # prepare(task, params, device) -> the params run() receives (inputs resolved to paths, URLs);
    # finish(task, result, workdir) -> the result to record (outputs registered; ExecutorError fails it).
    prepare: str | None = None
    finish: str | None = None

    def load_run(self):
        return _load(self.run)

    def load_params(self):
        return _load(self.params)

    def load_prepare(self):
        return _load(self.prepare) if self.prepare else None

    def load_finish(self):
        return _load(self.finish) if self.finish else None


def _load(dotted: str):
    module, _, attr = dotted.rpartition(".")
    return getattr(import_module(module), attr)


REGISTRY: dict[str, ExecutorEntry] = {}


def register(entry: ExecutorEntry) -> None:
    REGISTRY[entry.kind] = entry


def get(kind: str) -> ExecutorEntry:
    return REGISTRY[kind]


class StrictSerializer(serializers.Serializer):
    """Rejects keys it does not declare: a typo must not silently fall back to a default."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["unknown parameter"] for key in unknown})
        return super().to_internal_value(data)


class ParamsSerializer(StrictSerializer):
    """Base of every kind's parameters; ``PRESETS[preset]`` overrides the field defaults."""

    PRESETS: dict[str, dict] = {"protocol": {}, "quick": {}}


def validate_params(kind: str, data: dict | None, preset: str = "protocol") -> dict:
    """The complete parameter dict stored on a task, or ``ValidationError`` naming the field."""
    if kind not in REGISTRY:
        raise serializers.ValidationError({"kind": [f"unknown task type {kind!r}"]})
    if preset not in PRESET_CHOICES:
        raise serializers.ValidationError({"preset": [f"unknown preset {preset!r}; choose from {PRESET_CHOICES}"]})
    if data is not None and not isinstance(data, dict):
        raise serializers.ValidationError({"params": ["must be a JSON object"]})
    cls = get(kind).load_params()
    merged = {**cls.PRESETS.get(preset, {}), **(data or {})}
    serializer = cls(data=merged)
    serializer.is_valid(raise_exception=True)
    return plain(serializer.validated_data)


def plain(value):
    """Nested serializers return OrderedDicts; tasks store plain JSON."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
