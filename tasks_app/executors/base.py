"""The executor contract (DESIGN.md rule 3): plain Python, no Django.

An executor is ``run(atoms, calculator, params, report) -> dict``:

* ``atoms`` — an ``ase.Atoms`` (``None`` for kinds that need no structure, e.g. training);
* ``calculator`` — a ready ASE calculator on the worker's device (``None`` if not needed);
* ``params`` — validated parameters with every default filled in;
* ``report`` — a ``Reporter``: progress, metric series, log lines, the artifact directory;
* the return value — a JSON-serialisable result dict. Files go into ``report.workdir``.

An executor raises ``ExecutorError`` for a failure it diagnosed itself (exploded system, no
convergence where that is fatal); anything else is an unexpected error. ``report.progress`` may
raise ``TaskCancelled`` when the platform cancelled the task; executors let it propagate.
The same executors run in workers, in ``enqueue_benchmark --sync`` and in tests.
"""

import logging
import math
from pathlib import Path

EXPLOSION_ENERGY_EV = 1e5  # MOFSimBench's guard: |E| above this means the system exploded


class ExecutorError(Exception):
    """A failure the executor diagnosed (shown to the user as the task's error)."""


class TaskCancelled(Exception):
    """Raised from ``Reporter.progress`` when the task was cancelled on the platform."""


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

    def on_progress(self, point: dict) -> None:
        """Hook for subclasses (persist, push, check for cancellation)."""


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def check_energy(energy: float, where: str = "") -> None:
    """Fail loudly on NaN/inf or a huge energy: the MOFSimBench explosion guard."""
    if not math.isfinite(energy):
        raise ExecutorError(f"System exploded{where}: energy is {energy}")
    if abs(energy) > EXPLOSION_ENERGY_EV:
        raise ExecutorError(f"System exploded{where}: |E| = {abs(energy):.3g} eV > {EXPLOSION_ENERGY_EV:.0g} eV")
