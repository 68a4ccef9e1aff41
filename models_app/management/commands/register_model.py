"""Register a model file (e.g. a MACE ``.model``) that an operator placed on the server.

The file is copied under WORKDIR/models/ and converted in the bubblewrap sandbox, then verified,
before it can be used (models_app.validation), exactly like an upload.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from models_app.choices import ModelFamily
from models_app.services import ModelFileError, register_model_file


class Command(BaseCommand):
    help = "Register a model file under a name (copied into WORKDIR/models and validated)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("path")
        parser.add_argument("--family", default=ModelFamily.MACE, choices=ModelFamily.values)
        parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
        parser.add_argument("--description", default="")

    def handle(self, *args, **opts):
        path = Path(opts["path"])
        if not path.is_file():
            raise CommandError(f"{path} is not a file")
        try:
            model = register_model_file(
                name=opts["name"],
                family=opts["family"],
                path=path,
                owner=None,
                config={"default_dtype": opts["dtype"]},
                description=opts["description"],
            )
        except ModelFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{model.name}: {model.validation_status} {model.validation_message}")
