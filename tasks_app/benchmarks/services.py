"""Creating benchmark runs: one BenchmarkRun row plus one task per structure, sent on commit.

``create_benchmark_run`` is the only way runs are made (API, pages, ``enqueue_benchmark``), so
validation is in one place. Errors are DRF ``ValidationError``s keyed by the offending field
(``kind``, ``model``, ``structure_set``, ``structures``, ``params``, ``preset``): the API turns
them into a 400 naming the field, the form and the command show the same message.

Built-in MOFSimBench sets are loaded on first use (``structures_app.builtin.load_set``), so
``--set essential`` works on a fresh install without running ``load_mofsimbench`` first.
"""

from django.db import transaction
from django.db.models import Q
from rest_framework.exceptions import ValidationError

from mofsim_site import executors
from structures_app import builtin
from structures_app.models import Structure, StructureSet
from tasks_app.choices import Priority
from tasks_app.models import BenchmarkRun
from tasks_app.params import validate_params
from tasks_app.services import enqueue_task


def visible_runs(user):
    """Owner-only visibility; staff see every run."""
    qs = BenchmarkRun.objects.select_related("model", "structure_set", "owner")
    return qs if user.is_staff else qs.filter(owner=user)


def visible_structures(user):
    qs = Structure.objects.all()
    return qs if user.is_staff else qs.filter(Q(owner=user) | Q(owner__isnull=True))


def visible_sets(user):
    qs = StructureSet.objects.all()
    return qs if user.is_staff else qs.filter(Q(owner=user) | Q(builtin=True))


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
    if kind not in benchmark_kinds():
        raise ValidationError({"kind": [f"{kind!r} is not a benchmark task type; choose from {benchmark_kinds()}"]})
    if model is None or not model.enabled or model.validation_status != "valid":
        raise ValidationError({"model": ["model is missing, disabled or not validated"]})
    if (structure_set is None) == (structures is None):
        raise ValidationError({"structure_set": ["give either a structure set or a list of structures"]})
    members = list(structure_set.ordered_structures()) if structure_set is not None else list(structures)
    if not members:
        raise ValidationError({"structure_set" if structure_set else "structures": ["no structures to run"]})
    for structure in members:
        if structure.owner_id not in (None, owner.pk) and not owner.is_staff:
            raise ValidationError({"structures": [f"structure not found: {structure.pk}"]})
    validated = _validated_params(kind, params, preset)
    what = structure_set.slug if structure_set else f"{len(members)} structures"
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
        for structure in members:
            enqueue_task(
                owner=owner,
                kind=kind,
                params=validated,
                structure=structure,
                model=model,
                priority=priority,
                benchmark_run=run,
                time_limit_s=time_limit_s,
            )
    return run
