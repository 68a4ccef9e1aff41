"""Creating benchmark runs: one BenchmarkRun row plus one task per structure, sent on commit.

``create_benchmark_run`` is the only way runs are made (API, pages, ``enqueue_benchmark``), so
validation is in one place (``plan_benchmark_run``, which the estimate before submit shares).
Errors are DRF ``ValidationError``s keyed by the offending field
(``kind``, ``model``, ``structure_set``, ``structures``, ``params``, ``preset``): the API turns
them into a 400 naming the field, the form and the command show the same message.

Built-in MOFSimBench sets are loaded on first use (``structures_app.builtin.load_set``), so
``--set essential`` works on a fresh install without running ``load_mofsimbench`` first.
"""

import uuid

from django.db import transaction
from django.db.models import Count, Q
from rest_framework.exceptions import ValidationError

from mofsim_site import executors
from structures_app import builtin
from structures_app.models import Structure, StructureSet
from tasks_app import eta
from tasks_app.benchmarks import collect, report
from tasks_app.choices import TERMINAL, Priority, TaskStatus
from tasks_app.models import BenchmarkRun
from tasks_app.params import validate_params
from tasks_app.services import enqueue_tasks


def visible_runs(user):
    """Owner-only visibility; staff see every run."""
    return BenchmarkRun.objects.visible_to(user).select_related("model", "structure_set", "owner")


def visible_structures(user):
    return Structure.objects.visible_to(user)


def visible_sets(user):
    return StructureSet.objects.visible_to(user)


def benchmark_kinds() -> list[str]:
    """Task types a benchmark can run: those that take a structure and a model."""
    return [e.kind for e in executors.REGISTRY.values() if e.needs_structure and e.needs_model]


def resolve_set(user, slug: str) -> StructureSet:
    structure_set = visible_sets(user).filter(slug=slug).first()
    if structure_set is None and slug in builtin.SETS:
        structure_set = builtin.load_set(slug)
    if structure_set is None:
        known = sorted({*builtin.SETS, *visible_sets(user).values_list("slug", flat=True)})
        raise ValidationError({"structure_set": [f"unknown structure set {slug!r}; choose from {', '.join(known)}"]})
    return structure_set


def resolve_structure_ids(user, ids) -> list[Structure]:
    """Structures by primary key, in the given order; someone else's structure is 'not found'."""
    found = visible_structures(user).in_bulk(ids)
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise ValidationError({"structures": [f"structure(s) not found: {', '.join(missing)}"]})
    return [found[i] for i in ids]


def resolve_structure_names(user, names) -> list[Structure]:
    """Structures by name for ``--structures``: the user's own first, then built-ins; newest wins."""
    out, missing = [], []
    for name in names:
        candidates = visible_structures(user).filter(name=name)
        match = candidates.filter(owner=user).order_by("-id").first() or candidates.order_by("-id").first()
        if match is None:
            missing.append(name)
        else:
            out.append(match)
    if missing:
        raise ValidationError({"structures": [f"no structure named {', '.join(map(repr, missing))}"]})
    return out


def _validated_params(kind: str, params, preset: str) -> dict:
    try:
        return validate_params(kind, params, preset)
    except ValidationError as exc:
        detail = exc.detail if isinstance(exc.detail, dict) else {"params": exc.detail}
        top = {k: v for k, v in detail.items() if k in ("kind", "preset")}
        nested = {k: v for k, v in detail.items() if k not in ("kind", "preset")}
        raise ValidationError({**top, **({"params": nested} if nested else {})})


def plan_benchmark_run(
    *,
    owner,
    kind: str,
    model,
    structure_set: StructureSet | None = None,
    structures=None,
    preset: str = "protocol",
    params: dict | None = None,
) -> tuple[list[Structure], dict]:
    """What a run would be — its structures and validated parameters — or a ValidationError
    naming the field. ``create_benchmark_run`` and the estimate before submit share it."""
    if kind not in benchmark_kinds():
        raise ValidationError({"kind": [f"{kind!r} is not a benchmark task type; choose from {benchmark_kinds()}"]})
    if model is None or not model.is_usable:
        raise ValidationError({"model": ["model is missing, disabled or not validated"]})
    if (structure_set is None) == (structures is None):
        raise ValidationError({"structure_set": ["give either a structure set or a list of structures"]})
    members = list(structure_set.ordered_structures()) if structure_set is not None else list(structures)
    if not members:
        raise ValidationError({"structure_set" if structure_set else "structures": ["no structures to run"]})
    for structure in members:
        if structure.owner_id not in (None, owner.pk) and not owner.is_staff:
            raise ValidationError({"structures": [f"structure not found: {structure.pk}"]})
    return members, _validated_params(kind, params, preset)


def estimate_benchmark_run(*, priority: int = Priority.NORMAL, **plan) -> eta.Estimate:
    """How long the run would take (``tasks_app.eta``), without creating anything."""
    members, validated = plan_benchmark_run(**plan)
    return eta.estimate(kind=plan["kind"], model=plan["model"], structures=members, params=validated,
                        priority=priority)  # fmt: skip


def create_benchmark_run(
    *,
    owner,
    kind: str,
    model,
    structure_set: StructureSet | None = None,
    structures=None,
    preset: str = "protocol",
    params: dict | None = None,
    priority: int = Priority.NORMAL,
    name: str = "",
    time_limit_s: int | None = None,
) -> BenchmarkRun:
    """Create the run and one QUEUED task per structure; messages go out after commit."""
    members, validated = plan_benchmark_run(owner=owner, kind=kind, model=model, structure_set=structure_set,
                                            structures=structures, preset=preset, params=params)  # fmt: skip
    what = structure_set.slug if structure_set else f"{len(members)} structure{'' if len(members) == 1 else 's'}"
    with transaction.atomic():
        run = BenchmarkRun.objects.create(
            name=name or f"{kind} · {model.name} · {what}",
            owner=owner,
            kind=kind,
            model=model,
            structure_set=structure_set,
            preset=preset,
            params=validated,
        )
        spec = {"kind": kind, "params": validated, "model": model, "priority": priority, "benchmark_run": run,
                "time_limit_s": time_limit_s}  # fmt: skip
        enqueue_tasks(owner, [{**spec, "structure": structure} for structure in members])  # one bulk insert
    return run


def save_notes(run: BenchmarkRun, **changes) -> None:
    """Write only the given ``notes``/``tags`` (already validated), leaving the rest of the row alone."""
    BenchmarkRun.objects.filter(pk=run.pk).update(**changes)
    for field, value in changes.items():
        setattr(run, field, value)


def annotated_runs(user):
    done = Q(tasks__status__in=TERMINAL)
    failed = Q(tasks__status__in=[TaskStatus.FAILED, TaskStatus.TIMEOUT])
    return visible_runs(user).annotate(
        n_tasks=Count("tasks"),
        n_finished=Count("tasks", filter=done),
        n_completed=Count("tasks", filter=Q(tasks__status=TaskStatus.COMPLETED)),
        n_failed=Count("tasks", filter=failed),
    )


class ComparisonError(ValueError):
    """Why runs cannot be compared (pages show it as a message, the API as 400 or 404)."""

    def __init__(self, message: str, missing: bool = False):
        super().__init__(message)
        self.missing = missing


def parse_run_ids(raw: str) -> list[uuid.UUID]:
    ids = []
    for part in filter(None, (p.strip() for p in (raw or "").split(","))):
        try:
            ids.append(uuid.UUID(part))
        except ValueError:
            raise ComparisonError(f"not a run id: {part!r}")
    if len(ids) < 2:
        raise ComparisonError("give at least two run ids: ?runs=<id>,<id>")
    return list(dict.fromkeys(ids))


def comparison(user, ids) -> dict:
    """Runs (visible to ``user``, all of one task type) side by side; ``ComparisonError`` otherwise."""
    runs = visible_runs(user).in_bulk(ids)
    missing = [str(i) for i in ids if i not in runs]
    if missing:
        raise ComparisonError(f"benchmark run(s) not found: {', '.join(missing)}", missing=True)
    kinds = {runs[i].kind for i in ids}
    if len(kinds) > 1:
        raise ComparisonError(f"runs have different task types ({', '.join(sorted(kinds))})")
    reports = [collect.build_report(runs[i]) for i in ids]
    return report.compare(kinds.pop(), reports) | {"_reports": reports}
