"""The platform side of training jobs: submission, artifact intake, trained-model registration.

Runs in the web process (and in a local worker for registration). Nothing here imports torch
or unpickles a model: a trained MACE file is validated by models_app.validation in its own
resource-limited subprocess.
"""

from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from models_app.choices import DatasetKind, ModelSource
from models_app.datasets import DatasetError
from models_app.datasets.store import dataset_in_place
from models_app.models import MLModel, TrainingDataset
from models_app.services import register_model_file
from models_app.training.plan import plan_to_params
from mofsim_site.api.errors import Conflict
from mofsim_site.files import (
    DataPathError,
    PathOutside,
    UploadError,
    UploadTooLarge,
    resolve_data_path,
    safe_filename,
    stage_upload,
)
from tasks_app.archive import store_file
from tasks_app.models import TaskArtifact
from tasks_app.params import validate_params

KINDS = ("train_dms", "train_mace")
# role -> (request field, dataset kind, required) per job kind
ROLES = {
    "train_dms": {"scores": ("data", DatasetKind.DMS, True), "wild_type": ("wild_type", DatasetKind.FASTA, False)},
    "train_mace": {"structures": ("data", DatasetKind.STRUCTURES, True)},
}


def find_data_path(value: str, user, field: str) -> TrainingDataset:
    """A path (absolute or relative to WORKDIR) → the user's dataset at that path; 400 otherwise.

    Side-effect free, like all validation: a file of the user's under ``raw/`` that is no dataset
    yet comes back validated but unsaved, and ``register_datasets`` saves it when the job is
    submitted."""
    try:
        path = resolve_data_path(value)
    except PathOutside as exc:
        raise ValidationError({field: ["data_path must resolve inside WORKDIR"]}) from exc
    except DataPathError as exc:  # a name over 255 bytes, a NUL byte: the fuzzer's 500s
        raise ValidationError({field: ["data_path is not a valid path"]}) from exc
    rel = str(path.relative_to(settings.WORKDIR))
    dataset = TrainingDataset.objects.visible_to(user).filter(path=rel).first()
    if dataset is not None:
        return dataset
    own_root = settings.WORKDIR / "raw" if user.is_staff else settings.WORKDIR / "raw" / safe_filename(user.username)
    if path.is_file() and path.is_relative_to(own_root) and not TrainingDataset.objects.filter(path=rel).exists():
        try:
            return dataset_in_place(path, user)
        except (DatasetError, UploadTooLarge) as exc:
            raise ValidationError({field: [str(exc)]}) from exc
    raise ValidationError({field: [f"no dataset of yours at {value!r}; upload it first (POST /api/v1/datasets/)"]})


def register_datasets(datasets) -> None:
    """The submit step that saves the datasets ``find_data_path`` found in place (call it in the
    job's transaction: a job never names a dataset row that does not exist)."""
    for dataset in datasets:
        if dataset is None or not dataset._state.adding:
            continue
        try:
            with transaction.atomic():
                dataset.save(force_insert=True)
        except IntegrityError as exc:  # another submission registered the same file a moment ago
            raise Conflict(f"{dataset.path} was registered by another request just now; submit again") from exc


def resolve_dataset(value, user, field: str, kind: str) -> TrainingDataset:
    dataset = None
    if isinstance(value, str) and len(value) == 36 and value.count("-") == 4:
        dataset = TrainingDataset.objects.visible_to(user).filter(pk=value).first()
    if dataset is None:
        if not isinstance(value, str) or not value:
            raise ValidationError({field: ["give a dataset id or a data_path"]})
        dataset = find_data_path(value, user, field)
    if dataset.kind != kind:
        raise ValidationError({field: [f"dataset {dataset.name} is {dataset.kind}, this job needs {kind}"]})
    return dataset


def _ref(dataset: TrainingDataset) -> dict:
    return {
        "dataset": str(dataset.pk),
        "sha256": dataset.sha256,
        "file_format": dataset.file_format,
        "name": dataset.name,
    }


def build_job_params(kind: str, body: dict, user, preset: str = "protocol") -> tuple[dict, list[TrainingDataset]]:
    """Resolve datasets and the plan into the task's validated params (400s name the field).

    Also returns the datasets the params name; pass them to ``register_datasets`` on submit."""
    if kind not in KINDS:
        raise ValidationError({"kind": [f"unknown job kind {kind!r}; use one of {', '.join(KINDS)}"]})
    flat_plan, overrides = plan_to_params(kind, body.get("plan"))
    data, datasets = {}, {}
    for role, (field, dataset_kind, required) in ROLES[kind].items():
        value = body.get(field) or (body.get("data_path") if field == "data" else None)
        if value in (None, ""):
            if required:
                raise ValidationError({"data": ["give data_path or a dataset id"]})
            data[role] = None
            continue
        datasets[role] = resolve_dataset(str(value), user, "data_path" if field == "data" else field, dataset_kind)
        data[role] = _ref(datasets[role])
    explicit = {k: body[k] for k in ("epochs", "lr", "notes") if body.get(k) not in (None, "")}
    params = {**overrides, **explicit, "data": data, "plan": flat_plan}
    validated = validate_params(kind, params, preset)  # errors name the parameter (plan keys map onto them)
    _check_consistency(kind, validated, datasets)
    return validated, list(datasets.values())


def _check_consistency(kind, params, datasets) -> None:
    if kind == "train_dms":
        scores, wt = datasets["scores"], datasets.get("wild_type")
        if wt is None and not scores.summary.get("has_mutated_sequence"):
            raise ValidationError({"wild_type": ["the table has no mutated_sequence column: give a wild-type FASTA"]})
        if wt is not None and scores.summary.get("max_position", 0) > wt.summary.get("first_sequence_length", 0):
            raise ValidationError(
                {"wild_type": [f"mutants reach position {scores.summary['max_position']}, the wild type is shorter"]}
            )
    if kind == "train_mace":
        if params["model_name"] and MLModel.objects.filter(name=params["model_name"]).exists():
            raise ValidationError({"model_name": [f"a model named {params['model_name']!r} already exists"]})
        if params["base_model"] and not MLModel.objects.filter(name=params["base_model"], family="mace").exists():
            raise ValidationError({"base_model": [f"no MACE model named {params['base_model']!r}"]})


def store_artifact(task, uploaded, expected_sha256: str | None) -> TaskArtifact:
    """Stream an uploaded artifact to storage under ``artifacts/<task_id>/<name>``, checksummed."""
    name = safe_filename(uploaded.name or "", "artifact")
    limit = settings.TRAINING_ARTIFACT_MAX_BYTES
    try:
        staged = stage_upload(uploaded.chunks(), name, limit)
    except UploadTooLarge as exc:
        raise ValidationError({"file": [f"artifact is larger than the limit of {limit} bytes"]}) from exc
    try:
        if expected_sha256 and staged.sha256 != expected_sha256:
            raise ValidationError({"sha256": [f"received data has SHA-256 {staged.sha256}, not {expected_sha256}"]})
        return store_file(task, staged.path, name, sha256=staged.sha256, move=True)
    except UploadError as exc:
        raise ValidationError({"file": [str(exc)]}) from exc
    finally:
        staged.discard()


def register_trained_model(task, path: Path, defer: bool = False) -> dict:
    """Register a trained MACE file as an MLModel (family mace, source trained).

    The file is a pickle written by a worker, so it goes through the same sandboxed conversion as
    an upload: now (``defer=False``, in the worker that trained it) or on the service worker
    (``defer=True``: a node uploaded it; the web process never opens it).
    """

    existing = MLModel.objects.filter(config__trained_by_task=str(task.pk)).first()
    if existing is None:
        name = task.params.get("model_name") or f"mace-{str(task.pk)[:8]}"
        if MLModel.objects.filter(name=name).exists():
            name = f"{name}-{str(task.pk)[:8]}"
        existing = register_model_file(
            name=name,
            family="mace",
            path=Path(path),
            owner=task.owner,
            config={"default_dtype": "float64", "trained_by_task": str(task.pk)},
            description=f"MACE trained by job {task.pk}"
            + (f": {task.params['notes']}" if task.params.get("notes") else ""),
            source=ModelSource.TRAINED,
            defer=defer,
        )
    return {
        "name": existing.name,
        "validation_status": existing.validation_status,
        "validation_message": existing.validation_message,
        "sha256": existing.sha256,
    }
