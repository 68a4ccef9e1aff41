from django.db import migrations


def add_builtin_models(apps, schema_editor):
    from models_app.builtin import ensure_builtin_models

    ensure_builtin_models(apps.get_model("models_app", "MLModel"))


class Migration(migrations.Migration):
    dependencies = [("models_app", "0001_initial")]

    operations = [migrations.RunPython(add_builtin_models, migrations.RunPython.noop)]
