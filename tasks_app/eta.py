"""ETA before submit (issue 13): how long a task — or a whole benchmark run — will take, from
the speed measured on completed tasks, and how long it will wait behind the queue.

**Device.** A task runs on whichever capable worker takes it: an online, enabled node whose
environment loads the model's family (``WorkerNode.families``). Speeds are only valid on one
kind of device (the GPU model recorded in provenance, or "cpu"), so the estimate is
for the device kind most capable workers have. With none online, for the device kind measured
most often, and there is no wait estimate ("no online worker can run it now").

**Run time.** Samples are the ``SAMPLE_LIMIT`` most recently finished COMPLETED tasks of the
same model and task type that ran on that device kind. Each gives seconds per atom: its attempt's
wall time (``provenance.wall_time_s``, model load included — what the user waits for) over its
structure's atoms; the estimate is the median times the new structure's atoms (the median
seconds for kinds without a structure). Samples with exactly the task's parameters are used
when there are any (a ``protocol`` and a ``quick`` preset differ a hundredfold); otherwise all
samples, and the estimate says "other parameters". With no sample at all the estimate is
``DEFAULT_SECONDS_PER_ATOM`` (``DEFAULT_SECONDS`` without a structure) and says "no
measurements yet".

**Wait.** The QUEUED tasks ahead of it — same or higher priority (a new task is last among its
equals) whose model those workers can load — each estimated the same way (by model, task type
and atoms; parameters not compared), plus what is left of the tasks those workers hold now
(estimate minus time since start, never below zero), divided by the number of capable workers.
Fair share and model affinity may reorder the queue, so this is an estimate, not a promise.

Every estimate says what it came from: ``n_samples`` and ``source``.
"""

import statistics
from dataclasses import dataclass, field

from django.apps import apps
from django.db.models import Count, F, Q, Sum
from django.db.models.fields.json import KT
from django.utils import timezone

from tasks_app.choices import TaskStatus
from tasks_app.models import Task
from tasks_app.state import HELD

S = TaskStatus
SAMPLE_LIMIT = 200
# Rough guesses used until a model has measurements on a device: a quick-preset task on a
# 50-atom MOF on a CPU takes one to two minutes with the model load; a protocol run on a GPU a few.
DEFAULT_SECONDS_PER_ATOM = 2.0
DEFAULT_SECONDS = 600.0

SAME_PARAMS = "same parameters"
OTHER_PARAMS = "other parameters"
DEFAULT = "default"


@dataclass(frozen=True)
class Rate:
    """Seconds per atom (or per task, without a structure) and where the number came from."""

    per_atom: float | None
    per_task: float | None
    n_samples: int
    source: str

    def seconds(self, n_atoms: int | None) -> float:
        if n_atoms and self.per_atom is not None:
            return self.per_atom * n_atoms
        if self.per_task is not None:
            return self.per_task
        return DEFAULT_SECONDS_PER_ATOM * n_atoms if n_atoms else DEFAULT_SECONDS

    def total(self, n: int, atoms: int, with_structure: int) -> float:
        """``seconds`` summed over ``n`` tasks, ``with_structure`` of them with ``atoms`` in all."""
        per_atom = self.per_atom if self.n_samples else DEFAULT_SECONDS_PER_ATOM
        if per_atom is None:  # measured only on tasks without a structure
            return n * self.seconds(None)
        return per_atom * atoms + (n - with_structure) * self.seconds(None)


@dataclass
class Estimate:
    run_s: float  # compute seconds of all the submission's tasks together
    n_tasks: int
    device: str | None
    n_samples: int
    source: str
    workers: int
    tasks_ahead: int
    wait_s: float | None  # None: no online worker can run it
    by_structure: list[dict] = field(default_factory=list)

    @property
    def total_s(self) -> float | None:
        """Until the last of its tasks finishes: the wait, then its tasks spread over the workers."""
        if self.wait_s is None:
            return None
        return self.wait_s + self.run_s / max(1, min(self.workers, self.n_tasks))

    @property
    def basis(self) -> str:
        where = f" on {self.device}" if self.device else ""
        if self.source == DEFAULT:
            guess = f"{DEFAULT_SECONDS_PER_ATOM:g} s per atom"
            return f"no measurements yet for this model and task type{where}: default guess of {guess}"
        n = f"{self.n_samples} completed task{'' if self.n_samples == 1 else 's'}"
        return f"from {n}{where} ({self.source})"

    @property
    def text(self) -> str:
        """One line for forms and the CLI, e.g. "about 12 min, 3 tasks ahead (from 5 completed …)"."""
        ahead = f"{self.tasks_ahead} task{'' if self.tasks_ahead == 1 else 's'} ahead"
        if self.total_s is None:
            head = f"about {duration(self.run_s)} of compute; no online worker can run it now"
        else:
            head = f"about {duration(self.total_s)}, {ahead}"
        return f"{head} — {self.basis}"

    def as_dict(self) -> dict:
        return {
            "total_s": self.total_s,
            "run_s": self.run_s,
            "wait_s": self.wait_s,
            "n_tasks": self.n_tasks,
            "tasks_ahead": self.tasks_ahead,
            "workers": self.workers,
            "device": self.device,
            "n_samples": self.n_samples,
            "source": self.source,
            "basis": self.basis,
            "text": self.text,
        }


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _samples(model_id, kind: str) -> list[dict]:
    """The newest completed tasks of this model and kind: wall time, atoms, device kind, params."""
    rows = (
        Task.objects.filter(status=S.COMPLETED, model_id=model_id, kind=kind, finished_at__isnull=False)
        .order_by("-finished_at")
        .values(
            "params",
            n_atoms=F("structure__n_atoms"),
            wall=KT("result__provenance__wall_time_s"),
            gpu=KT("result__provenance__gpu_name"),
            dev=KT("result__provenance__device"),
        )[:SAMPLE_LIMIT]
    )
    out = []
    for r in rows:
        wall = _float(r["wall"])  # None: no provenance (a result stored before it existed)
        if wall is not None and wall > 0:
            device = r["gpu"] or r["dev"] or "cpu"
            out.append({"params": r["params"], "n_atoms": r["n_atoms"], "wall": wall, "device": device})
    return out


def speed_table(model, limit: int = 4 * SAMPLE_LIMIT) -> list[dict]:
    """Measured speed of ``model`` per task type and device kind (the model page): median
    steps/s and atoms·steps/s of its most recently finished completed tasks, with their count."""
    rows = (
        Task.objects.filter(status=S.COMPLETED, model=model, finished_at__isnull=False)
        .order_by("-finished_at")
        .values(
            "kind",
            steps=KT("result__provenance__steps_per_s"),
            atoms=KT("result__provenance__atom_steps_per_s"),
            gpu=KT("result__provenance__gpu_name"),
            dev=KT("result__provenance__device"),
        )[:limit]
    )
    groups: dict[tuple[str, str], list[tuple[float | None, float | None]]] = {}
    for r in rows:
        steps, atoms = _float(r["steps"]), _float(r["atoms"])
        if steps is not None or atoms is not None:
            groups.setdefault((r["kind"], r["gpu"] or r["dev"] or "cpu"), []).append((steps, atoms))
    out = []
    for (kind, device), values in sorted(groups.items()):
        steps = [v[0] for v in values if v[0] is not None]
        atoms = [v[1] for v in values if v[1] is not None]
        out.append({"kind": kind, "device": device, "n": len(values),
                    "median_steps_per_s": statistics.median(steps) if steps else None,
                    "median_atom_steps_per_s": statistics.median(atoms) if atoms else None})  # fmt: skip
    return out


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def rate(samples: list[dict], device: str | None, params: dict | None = None) -> Rate:
    """The median seconds per atom (and per task) of ``samples`` on ``device``."""
    on_device = [s for s in samples if s["device"] == device]
    same = [s for s in on_device if params is not None and s["params"] == params]
    picked, source = (same, SAME_PARAMS) if same else (on_device, OTHER_PARAMS if params is not None else "measured")
    if not picked:
        return Rate(None, None, 0, DEFAULT)
    per_atom = [s["wall"] / s["n_atoms"] for s in picked if s["n_atoms"]]
    return Rate(
        per_atom=statistics.median(per_atom) if per_atom else None,
        per_task=statistics.median(s["wall"] for s in picked),
        n_samples=len(picked),
        source=source,
    )


def capable_workers(model) -> list:
    """Online, enabled worker nodes that can load ``model``'s family (all of them for no model)."""
    WorkerNode = apps.get_model("nodes_app", "WorkerNode")  # nodes are a layer above the task core
    online = WorkerNode.objects.filter(status="online", enabled=True).only("pk", "families", "device", "gpu_name")
    return [n for n in online if model is None or model.family in (n.families or [])]


def _device_for(workers: list, samples: list[dict]) -> str | None:
    kinds = [n.gpu_name or n.device or "cpu" for n in workers] or [s["device"] for s in samples]
    if not kinds:
        return None
    counts = {k: kinds.count(k) for k in kinds}
    return max(sorted(counts), key=lambda k: counts[k])


class _Rates:
    """Rates per (model, kind) on one device, each looked up once per estimate."""

    def __init__(self, device: str | None):
        self.device = device
        self.cache: dict[tuple, Rate] = {}

    def get(self, model_id, kind: str) -> Rate:
        key = (model_id, kind)
        if key not in self.cache:
            self.cache[key] = rate(_samples(model_id, kind), self.device)
        return self.cache[key]


def _ahead(priority: int, workers: list, rates: _Rates, now) -> tuple[int, float]:
    """(queued tasks ahead, seconds of work ahead incl. what the workers still hold)."""
    families = sorted({f for n in workers for f in (n.families or [])})
    queued = Task.objects.filter(status=S.QUEUED, priority__gte=priority).filter(
        Q(model__isnull=True) | Q(model__family__in=families)
    )
    groups = queued.values("model_id", "kind").annotate(
        n=Count("id"), atoms=Sum("structure__n_atoms"), with_structure=Count("structure_id")
    )
    count, seconds = 0, 0.0
    for g in groups:
        count += g["n"]
        seconds += rates.get(g["model_id"], g["kind"]).total(g["n"], g["atoms"] or 0, g["with_structure"])
    held = Task.objects.filter(status__in=HELD, node_id__in=[n.pk for n in workers]).values(
        "model_id", "kind", "started_at", "assigned_at", n_atoms=F("structure__n_atoms")
    )
    for t in held:
        began = t["started_at"] or t["assigned_at"] or now
        left = rates.get(t["model_id"], t["kind"]).seconds(t["n_atoms"]) - (now - began).total_seconds()
        seconds += max(0.0, left)
    return count, seconds


def estimate(*, kind: str, model, structures: list, params: dict | None, priority: int, now=None) -> Estimate:
    """The estimate for submitting one task per structure (``[None]`` for a kind without one)."""
    now = now or timezone.now()
    samples = _samples(model.pk if model is not None else None, kind)
    workers = capable_workers(model)
    device = _device_for(workers, samples)
    own = rate(samples, device, params)
    sizes = [s.n_atoms if s is not None else None for s in structures]
    run_s = sum(own.seconds(n) for n in sizes)
    if workers:
        rates = _Rates(device)
        ahead, work = _ahead(priority, workers, rates, now)
        wait_s: float | None = work / len(workers)
    else:
        ahead, wait_s = Task.objects.filter(status=S.QUEUED, priority__gte=priority).count(), None
    return Estimate(run_s=run_s, n_tasks=len(sizes), device=device, n_samples=own.n_samples, source=own.source,
                    workers=len(workers), tasks_ahead=ahead, wait_s=wait_s)  # fmt: skip
