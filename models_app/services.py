"""Registering model files: stage under WORKDIR, checksum, validate out of process.

Two entry points: ``register_model_file`` validates synchronously (the operator's
``manage.py register_model`` and training jobs, which already run in a worker), and
``accept_model_upload`` (the staff API) stores the file, saves the row as PENDING and leaves
validation to a worker (``models_app.tasks.validate_model``): the web process never loads it.
"""

from pathlib import Path

from django.conf import settings
from django.db import transaction

from models_app.choices import ModelSource, ValidationStatus
from models_app.models import MLModel
from models_app.validation import validate_model_file
from mofsim_site.files import UploadError, file_chunks, stage_upload


class ModelFileError(Exception):
    pass


def _stage(chunks, filename: str, name: str):
    if MLModel.objects.filter(name=name).exists():
        raise ModelFileError(f"a model named {name!r} already exists")
    try:
        staged = stage_upload(chunks, filename, settings.MODEL_UPLOAD_MAX_BYTES)
    except UploadError as exc:
        raise ModelFileError(str(exc)) from exc
    return staged.promote(settings.WORKDIR / "models"), staged


def _create(name, family, final: Path, staged, owner, config, description, source, status, message) -> MLModel:
    with transaction.atomic():
        return MLModel.objects.create(
            name=name, family=family, source=source, description=description, config=config or {},
            model_path=str(final.relative_to(settings.WORKDIR)), sha256=staged.sha256, size_bytes=staged.size,
            validation_status=status, validation_message=message, owner=owner,
        )  # fmt: skip


def register_model_file(
    *,
    name: str,
    family: str,
    path: Path,
    owner,
    config: dict | None = None,
    description: str = "",
    source=ModelSource.UPLOAD,
) -> MLModel:
    final, staged = _stage(file_chunks(path), Path(path).name, name)
    config = config or {}
    ok, message = validate_model_file(family, final, config.get("default_dtype", "float64"))
    status = ValidationStatus.VALID if ok else ValidationStatus.INVALID
    return _create(name, family, final, staged, owner, config, description, source, status, message)


def accept_model_upload(*, name: str, family: str, uploaded, owner, config: dict, description: str = "") -> MLModel:
    final, staged = _stage(uploaded.chunks(), uploaded.name, name)
    model = _create(name, family, final, staged, owner, config, description, ModelSource.UPLOAD,
                    ValidationStatus.PENDING, "waiting for a worker to validate")  # fmt: skip
    transaction.on_commit(lambda: _send_validation(model.pk))
    return model


def _send_validation(model_id: int) -> None:
    from models_app.tasks import validate_model

    validate_model.send(model_id)


def run_validation(model: MLModel) -> MLModel:
    """Validate a stored model file (in a subprocess) and record the outcome."""
    ok, message = validate_model_file(model.family, settings.WORKDIR / model.model_path,
                                      model.config.get("default_dtype", "float64"))  # fmt: skip
    model.validation_status = ValidationStatus.VALID if ok else ValidationStatus.INVALID
    model.validation_message = message
    model.save(update_fields=["validation_status", "validation_message"])
    return model
