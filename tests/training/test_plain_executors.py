"""The training executors are plain Python (DESIGN.md rule 3): no Django models, settings or environment.

``pyproject.toml`` holds the import-linter contract for the project's own modules; these tests
cover what it cannot see: the executor modules import with Django unconfigured and load no app's
models, and their code reads neither ``django.conf.settings`` nor ``os.environ``.
"""

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

MODULES = [
    "models_app.training.jobs",
    "models_app.training.dms",
    "models_app.training.mace_ft",
    "models_app.training.dms_models",
    "models_app.training.registry",
]
APPS = ("mofsim_site", "structures_app", "models_app", "tasks_app", "nodes_app", "alerts_app")
ROOT = Path(__file__).resolve().parents[2]


def test_they_import_with_django_unconfigured_and_load_no_app_models():
    code = (
        "import sys\n"
        f"for name in {MODULES!r}: __import__(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {APPS!r} and "
        "(m.endswith('.models') or m.split('.')[0] in ('tasks_app', 'nodes_app', 'alerts_app', 'structures_app')))\n"
        "from django.apps import apps\n"
        "assert not apps.ready and not bad, bad\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("name", MODULES)
def test_they_read_neither_settings_nor_the_environment(name):
    tree = ast.parse(Path(importlib.util.find_spec(name).origin).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.module not in ("django.conf", "os"), f"{name} imports from {node.module}"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in {("os", "environ"), ("os", "getenv")}, f"{name} reads os.environ"
