"""Every model family gets a choice (models_app.families); new built-ins and pinned weight checksums."""

from django.db import migrations, models


def add_builtin_models(apps, schema_editor):
    from models_app.builtin import ensure_builtin_models

    ensure_builtin_models(apps.get_model("models_app", "MLModel"))


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0004_pickled_mace_files_need_conversion"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mlmodel",
            name="family",
            field=models.CharField(
                choices=[
                    ("sevennet", "SevenNet"),
                    ("mace", "MACE"),
                    ("emt", "ASE EMT (test calculator)"),
                    ("chgnet", "CHGNet"),
                    ("orb", "ORB"),
                    ("mattersim", "MatterSim"),
                    ("fairchem", "fairchem (eSEN, UMA)"),
                    ("grace", "GRACE (tensorpotential)"),
                    ("petmad", "PET-MAD"),
                    ("ase", "ASE calculator by dotted path (staff)"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(add_builtin_models, migrations.RunPython.noop),
    ]
