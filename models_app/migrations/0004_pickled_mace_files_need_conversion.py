"""MACE rows validated before the sandbox stored a pickle that workers would unpickle.

Workers now load only the pickle-free format (models_app.mace_format), so such rows cannot run;
mark them invalid with the reason instead of letting tasks fail at load time.
"""

from django.db import migrations

MESSAGE = "stored as a pickle before sandboxed conversion existed: register the file again (docs/models.md)"


def mark_unconverted(apps, schema_editor):
    MLModel = apps.get_model("models_app", "MLModel")
    rows = MLModel.objects.filter(family="mace").exclude(model_path="").exclude(model_path__endswith=".safetensors")
    rows.update(validation_status="invalid", validation_message=MESSAGE)


class Migration(migrations.Migration):
    dependencies = [("models_app", "0003_training_dataset")]

    operations = [migrations.RunPython(mark_unconverted, migrations.RunPython.noop)]
