"""Registering model files: copy under WORKDIR/models, checksum, validate out of process."""

import hashlib
import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction

from models_app.choices import ModelSource, ValidationStatus
from models_app.models import MLModel
from models_app.validation import validate_model_file
from structures_app.parsers import safe_filename


class ModelFileError(Exception):
    pass


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
    if MLModel.objects.filter(name=name).exists():
        raise ModelFileError(f"a model named {name!r} already exists")
    size = path.stat().st_size
    if size > settings.MODEL_UPLOAD_MAX_BYTES:
        raise ModelFileError(f"model file is larger than {settings.MODEL_UPLOAD_MAX_BYTES} bytes")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    target_dir = settings.WORKDIR / "models"
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{sha[:12]}-{safe_filename(path.name, 'model.model')}"
    if Path(path).resolve() != target.resolve():
        shutil.copyfile(path, target)
    config = config or {}
    ok, message = validate_model_file(family, target, config.get("default_dtype", "float64"))
    with transaction.atomic():
        return MLModel.objects.create(
            name=name,
            family=family,
            source=source,
            description=description,
            config=config,
            model_path=str(target.relative_to(settings.WORKDIR)),
            sha256=sha,
            size_bytes=size,
            validation_status=ValidationStatus.VALID if ok else ValidationStatus.INVALID,
            validation_message=message,
            owner=owner,
        )
