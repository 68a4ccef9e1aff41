"""One resolver of data paths (mofsim_site.files.resolve_data_path) and side-effect-free validation.

A training ``data_path`` naming a file of the user's under ``raw/`` becomes a dataset only when
the job is submitted (``register_datasets``), never while the request is being validated.
"""

import shutil

import pytest
from django.conf import settings
from rest_framework.exceptions import ValidationError

from models_app.models import TrainingDataset
from models_app.training.server import build_job_params
from mofsim_site.files import DataPathError, PathOutside, resolve_data_path
from tasks_app.models import Task
from tests.training.conftest import upload

pytestmark = pytest.mark.django_db


def test_no_path_leaves_workdir(tmp_path):
    inside = settings.WORKDIR / "raw" / "owner" / "a.csv"
    assert resolve_data_path("raw/owner/a.csv") == inside.resolve()
    assert resolve_data_path(str(inside)) == inside.resolve()
    for outside in ("/etc/passwd", "../outside.csv", "raw/../../outside.csv", str(tmp_path / "x.csv")):
        with pytest.raises(PathOutside):
            resolve_data_path(outside)
    link = settings.WORKDIR / "raw" / "escape"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(tmp_path)
    try:
        with pytest.raises(PathOutside):  # symlinks are resolved before the check
            resolve_data_path("raw/escape/x.csv")
    finally:
        link.unlink()
    with pytest.raises(DataPathError):
        resolve_data_path("x" * 300)
    with pytest.raises(DataPathError):
        resolve_data_path("raw/\x00.csv")


def test_extra_roots_are_allowed_only_when_named(tmp_path):
    (tmp_path / "ref.cif").write_text("data")
    assert resolve_data_path("ref.cif", base=tmp_path, roots=(tmp_path,)) == (tmp_path / "ref.cif").resolve()
    with pytest.raises(PathOutside):
        resolve_data_path("ref.cif", base=tmp_path)


@pytest.fixture
def in_place(api, owner, dms_files):
    """The DMS table copied by hand into the owner's raw/ folder, plus an uploaded wild type."""
    target = settings.WORKDIR / "raw" / "owner" / "by-hand.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(dms_files["csv"], target)
    fasta = upload(api, dms_files["fasta"]).json()
    yield {"path": "raw/owner/by-hand.csv", "wild_type": fasta["id"]}
    target.unlink(missing_ok=True)


def test_validating_a_job_registers_nothing(owner, in_place):
    body = {"data": in_place["path"], "wild_type": in_place["wild_type"], "epochs": 2}
    params, datasets = build_job_params("train_dms", body, owner)
    assert not TrainingDataset.objects.filter(path=in_place["path"]).exists()
    assert params["data"]["scores"]["dataset"] == str(datasets[0].pk) and datasets[0]._state.adding
    with pytest.raises(ValidationError):
        build_job_params("train_dms", {**body, "epochs": 0}, owner)
    assert not TrainingDataset.objects.filter(path=in_place["path"]).exists()


def test_submitting_registers_the_file_as_the_dataset_the_job_names(api, in_place):
    body = {"data_path": in_place["path"], "wild_type": in_place["wild_type"]}
    refused = api.post("/api/v1/jobs", {**body, "epochs": 0}, format="json")
    assert refused.status_code == 400 and "epochs" in refused.json()["details"]
    assert not TrainingDataset.objects.filter(path=in_place["path"]).exists()
    r = api.post("/api/v1/jobs", {"data_path": in_place["path"], "wild_type": in_place["wild_type"]}, format="json")
    assert r.status_code == 201, r.content
    dataset = TrainingDataset.objects.get(path=in_place["path"])
    assert Task.objects.get(pk=r.json()["id"]).params["data"]["scores"]["dataset"] == str(dataset.pk)
