"""Registering model files: stage under WORKDIR, checksum, convert in the sandbox, verify.

Two entry points: ``register_model_file`` validates synchronously (the operator's
``manage.py register_model`` and training jobs, which already run in a worker), and
``accept_model_upload`` (the staff API, and a node uploading a trained model) stores the file,
saves the row as PENDING and leaves validation to the service worker
(``models_app.tasks.validate_model``): the web process never loads it.

A valid model's ``model_path`` is the pickle-free file the sandbox produced
(``models_app.mace_format``); the uploaded pickle is deleted and only its checksum is kept
(``config["upload_sha256"]``), so no worker can ever unpickle it.
"""

import os
from pathlib import Path

from django.conf import settings
from django.db import transaction

from models_app.choices import ModelSource, ValidationStatus
from models_app.models import MLModel
from models_app.validation import Verdict, validate_model_file
from mofsim_site.files import UploadError, file_chunks, sha256_file, stage_upload


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
    defer: bool = False,
    trusted: bool = False,
) -> MLModel:
    """Store ``path`` as a model; validate it now (in a worker) or, with ``defer``, on the service worker.

    ``trusted`` only for a file whose checksum the caller matched against a pinned value
    (``models_app.wheel_models``); see ``validation.validate_model_file``.
    """
    final, staged = _stage(file_chunks(path), Path(path).name, name)
    if defer:
        return _pending(name, family, final, staged, owner, config, description, source)
    model = _create(name, family, final, staged, owner, config, description, source, ValidationStatus.PENDING, "")
    return run_validation(model, trusted=trusted)


def accept_model_upload(
    *, name: str, family: str, uploaded, owner, config: dict, description: str = "", source=ModelSource.UPLOAD
) -> MLModel:
    final, staged = _stage(uploaded.chunks(), uploaded.name, name)
    return _pending(name, family, final, staged, owner, config, description, source)


def _pending(name, family, final, staged, owner, config, description, source) -> MLModel:
    model = _create(name, family, final, staged, owner, config, description, source,
                    ValidationStatus.PENDING, "waiting for a worker to validate")  # fmt: skip
    transaction.on_commit(lambda: _send_validation(model.pk))
    return model


def _send_validation(model_id: int) -> None:
    from models_app.tasks import validate_model  # deferred: the actor module imports this one

    validate_model.send(model_id)


def run_validation(model: MLModel, trusted: bool = False) -> MLModel:
    """Convert and verify a stored upload (models_app.validation) and record the outcome."""
    upload = settings.WORKDIR / model.model_path
    verdict = validate_model_file(model.family, upload, model.config.get("default_dtype", "float64"), trusted)
    try:
        if verdict.ok:
            _adopt_converted(model, upload, verdict)
        model.validation_status = ValidationStatus.VALID if verdict.ok else ValidationStatus.INVALID
        model.validation_message = verdict.message
        model.save()
    finally:
        verdict.discard()
    return model


def _adopt_converted(model: MLModel, upload: Path, verdict: Verdict) -> None:
    final = upload.with_name(f"{upload.stem}.safetensors")
    os.replace(verdict.converted, final)
    model.config = {**model.config, "upload_sha256": model.sha256}
    model.model_path = str(final.relative_to(settings.WORKDIR))
    model.sha256 = sha256_file(final)
    model.size_bytes = final.stat().st_size
    if upload != final:
        upload.unlink(missing_ok=True)
