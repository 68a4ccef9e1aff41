"""Evidence for the DMS trainer, through the job path (API submit → claim → executor → artifacts).

Data: 760 single mutants of a 40-residue protein from a known additive model plus noise
(tests/training/synthetic.py). The CNN must rank random-fold variants with Spearman ρ > 0.8;
one-hot ridge must lose its skill on contiguous folds, where test positions were never mutated
in training.
"""

import csv
import json

import pytest
from django.conf import settings

from tasks_app.models import Task
from tests.training.conftest import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def dms_datasets(api, dms_files):
    fasta = upload(api, dms_files["fasta"]).json()
    table = upload(api, dms_files["csv"]).json()
    return {"fasta": fasta, "table": table}


def submit(api, dms_datasets, plan, **extra):
    body = {
        "data_path": dms_datasets["table"]["path"],
        "wild_type": dms_datasets["fasta"]["id"],
        "notes": "synthetic additive landscape",
        "plan": plan,
        **extra,
    }
    r = api.post("/api/v1/jobs", body, format="json")
    assert r.status_code == 201, r.content
    return Task.objects.get(pk=r.json()["id"])


def test_it_trains_a_cnn_to_rho_above_0_8_on_random_folds(api, dms_datasets, run_inline):
    plan = {"train": {"lr": 3e-3, "batch_size": 64, "max_epochs": 30}, "model.name": "cnn", "split.strategy": "random"}
    task = run_inline(submit(api, dms_datasets, plan))
    assert task.status == "COMPLETED", task.error
    metrics = task.result["metrics"]
    cnn, ridge = metrics["cnn"], metrics["ridge"]
    assert cnn["spearman"] > 0.8, cnn
    assert min(cnn["spearman_per_fold"]) > 0.7
    assert len(cnn["spearman_per_fold"]) == len(ridge["spearman_per_fold"]) == 5
    assert ridge["mse"] > 0 and cnn["mse"] > 0
    assert task.params["epochs"] == 30 and task.params["split"] == "random"
    assert task.params["plan"]["train.max_epochs"] == 30

    # live metrics: one point per epoch (5 folds + the final refit), with loss, val_loss, spearman
    points = list(task.metric_points.order_by("step"))
    assert points[-1].step == task.progress_total == 6 * 30
    assert {"loss", "val_loss", "spearman"} <= set(points[-1].data)

    names = {a.name for a in task.artifacts.all()}
    assert {"model.pth", "metrics.json", "train.log", "plan.json", "splits.csv", "predictions.csv"} <= names
    folder = (settings.WORKDIR / task.artifacts.get(name="plan.json").path).parent  # the attempt's folder
    plan_file = json.loads((folder / "plan.json").read_text())
    assert plan_file["plan"]["model.name"] == "cnn"
    with open(folder / "predictions.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 760 and {"pred_ridge", "pred_cnn", "fold"} <= set(rows[0])
    import torch

    saved = torch.load(folder / "model.pth", weights_only=True)  # plain tensors: safe to load anywhere
    assert saved["seq_len"] == 40 and saved["wild_type"] == dms_datasets_wt(dms_datasets)


def dms_datasets_wt(dms_datasets):
    from models_app.datasets.fasta import wild_type
    from models_app.models import TrainingDataset

    return wild_type(TrainingDataset.objects.get(pk=dms_datasets["fasta"]["id"]).absolute_path)


def test_ridge_loses_its_skill_on_contiguous_folds(api, dms_datasets, run_inline):
    spearman = {}
    for strategy in ("random", "contiguous"):
        task = run_inline(submit(api, dms_datasets, {"model.name": "ridge", "split.strategy": strategy}))
        assert task.status == "COMPLETED", task.error
        spearman[strategy] = task.result["metrics"]["ridge"]["spearman"]
    assert spearman["random"] > 0.75, spearman
    assert spearman["contiguous"] < 0.3, spearman
    assert spearman["random"] - spearman["contiguous"] > 0.5


def test_modulo_split_puts_each_position_in_one_fold(api, dms_datasets, run_inline):
    task = run_inline(submit(api, dms_datasets, {"model.name": "ridge", "split": {"strategy": "modulo"}}))
    assert task.status == "COMPLETED", task.error
    with open(settings.WORKDIR / task.artifacts.get(name="splits.csv").path) as fh:
        rows = list(csv.DictReader(fh))
    assert all(int(r["fold"]) == (int(r["first_position"]) - 1) % 5 for r in rows)


def test_a_failed_job_keeps_its_error_summary(api, dms_datasets, run_inline, tmp_path):
    task = run_inline(submit(api, dms_datasets, {"model.name": "transformer"}))
    assert task.status == "FAILED"
    assert "unknown model 'transformer'" in task.error
