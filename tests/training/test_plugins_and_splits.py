"""Operator plugins (loaded by workers only) and the split schemes."""

import sys

import numpy as np
import pytest
from django.conf import settings

from models_app.training import registry
from models_app.training.splits import make_folds
from tasks_app.models import Task
from tests.training.conftest import upload

PLUGIN = """
import numpy as np
from models_app.training.registry import register_metric, register_vocabulary

register_metric("pearson_test", lambda y, p: float(np.corrcoef(y, p)[0, 1]))
register_vocabulary("iupac_plus", "ACDEFGHIKLMNPQRSTVWYBZJXUO*")
"""


@pytest.mark.django_db
def test_plugins_register_metrics_in_the_worker_not_in_the_web_process(api, dms_files, run_inline):
    folder = settings.WORKDIR / "plugins" / "metrics"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pearson_test.py").write_text(PLUGIN)
    (folder / "broken.py").write_text("raise RuntimeError('broken plugin')\n")
    try:
        fasta = upload(api, dms_files["fasta"]).json()
        table = upload(api, dms_files["csv"]).json()
        plan = {"model.name": "ridge", "eval.metrics": ["pearson_test"], "data.vocab": "iupac_plus"}
        r = api.post("/api/v1/jobs", {"dataset": table["id"], "wild_type": fasta["id"], "plan": plan}, format="json")
        assert r.status_code == 201, r.content
        assert "mofsim_plugins.metrics.pearson_test" not in sys.modules  # submission imported nothing
        task = run_inline(Task.objects.get(pk=r.json()["id"]))
        assert task.status == "COMPLETED", task.error
        ridge = task.result["metrics"]["ridge"]
        assert len(ridge["pearson_test_per_fold"]) == 5 and 0 < ridge["pearson_test"] <= 1
        assert task.result["vocabulary"] == "iupac_plus"
    finally:
        for path in folder.glob("*.py"):
            path.unlink()
        registry.METRICS.pop("pearson_test", None)
        registry.VOCABULARIES.pop("iupac_plus", None)


def test_contiguous_folds_are_blocks_of_positions():
    positions = np.repeat(np.arange(1, 21), 3)
    folds = make_folds(positions, "contiguous", k=5)
    for fold in range(5):
        held = np.unique(positions[folds == fold])
        assert np.array_equal(held, np.arange(held.min(), held.max() + 1)) and len(held) == 4


def test_random_folds_are_balanced_and_seeded():
    positions = np.arange(1, 101)
    a, b = make_folds(positions, "random", 5, seed=1), make_folds(positions, "random", 5, seed=1)
    assert np.array_equal(a, b) and np.bincount(a).tolist() == [20] * 5
    with pytest.raises(ValueError, match="empty"):
        make_folds(np.array([1, 1, 2]), "contiguous", k=5)
