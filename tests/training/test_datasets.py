"""Dataset upload and validation: stored under raw/<project>/ with SHA-256, clear 400s otherwise."""

import hashlib

import pytest
from django.conf import settings
from django.test import override_settings

from models_app.models import TrainingDataset
from tests.conftest import client_for
from tests.training.conftest import upload

pytestmark = pytest.mark.django_db


def test_it_stores_fasta_and_csv_with_checksum_owner_and_summary(api, owner, dms_files):
    r = upload(api, dms_files["fasta"])
    assert r.status_code == 201, r.content
    fasta = r.json()
    assert fasta["kind"] == "fasta" and fasta["n_records"] == 1
    assert fasta["summary"]["first_sequence_length"] == 40
    r = upload(api, dms_files["csv"], name="synthetic")
    assert r.status_code == 201, r.content
    table = r.json()
    assert table["kind"] == "dms" and table["n_records"] == dms_files["n"]
    assert table["owner"] == "owner" and table["created_at"]
    row = TrainingDataset.objects.get(pk=table["id"])
    assert row.path.startswith("raw/owner/")
    on_disk = (settings.WORKDIR / row.path).read_bytes()
    assert (
        hashlib.sha256(on_disk).hexdigest() == row.sha256 == hashlib.sha256(dms_files["csv"].read_bytes()).hexdigest()
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty file"),
        ("header.csv", b"mutant,DMS_score,DMS_score_bin\n", "no data rows"),
        ("cols.csv", b"mutant,score\nA1C,0.5\n", "wrong columns: missing DMS_score, DMS_score_bin"),
        ("num.csv", b"mutant,DMS_score,DMS_score_bin\nA1C,high,1\n", "DMS_score 'high' is not a number"),
        ("nan.tsv", b"mutant\tDMS_score\tDMS_score_bin\nA1C\tnan\t1\n", "not a finite number"),
        ("bin.csv", b"mutant,DMS_score,DMS_score_bin\nA1C,0.5,2\n", "DMS_score_bin must be 0 or 1"),
        ("mut.csv", b"mutant,DMS_score,DMS_score_bin\nA1\xc3\x9f,0.5,1\n", "is not of the form A14D"),
        ("res.fasta", b">wt\nMKTAYIAK1QR\n", "unknown residue(s) 1"),
        ("res2.fasta", b">wt\nMKTAYIAKQR\n>x\nMK@\n", "unknown residue(s) @"),
        ("nohead.fasta", b"MKTAYIAKQR\n", "before the first '>' header"),
        ("frames.extxyz", b"1\nProperties=species:S:1:pos:R:3\nCu 0 0 0\n", "no reference energy and forces"),
        ("x.pdb", b"ATOM", "unsupported file type '.pdb'"),
    ],
)
def test_it_rejects_bad_files_with_a_400_naming_the_problem(api, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    r = upload(api, path)
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["code"] == "invalid"
    assert message in body["message"], body["message"]
    assert not TrainingDataset.objects.exists()
    assert not list((settings.WORKDIR / "tmp").glob("*.csv"))


def test_it_refuses_files_over_the_size_limit(api, dms_files):
    with override_settings(DATASET_UPLOAD_MAX_BYTES=1000):
        r = upload(api, dms_files["csv"])
    assert r.status_code == 413
    assert "limit of 1000 bytes" in r.json()["message"]
    assert not TrainingDataset.objects.exists()


def test_it_keeps_uploads_inside_workdir_whatever_the_name(api, tmp_path):
    path = tmp_path / "wt.fasta"
    path.write_text(">wt\nMKTAYIAKQR\n")
    with open(path, "rb") as fh:
        from django.core.files.uploadedfile import SimpleUploadedFile

        evil = SimpleUploadedFile("../../../etc/passwd.fasta", fh.read())
    r = api.post("/api/v1/datasets/", {"file": evil, "project": "owner"}, format="multipart")
    assert r.status_code == 201, r.content
    row = TrainingDataset.objects.get()
    assert (settings.WORKDIR / row.path).resolve().is_relative_to(settings.WORKDIR / "raw" / "owner")
    assert ".." not in row.path


def test_it_shows_datasets_only_to_their_owner(api, outsider, dms_files):
    dataset_id = upload(api, dms_files["fasta"]).json()["id"]
    other = client_for(outsider)
    assert other.get(f"/api/v1/datasets/{dataset_id}/").status_code == 404
    assert other.get("/api/v1/datasets/").json()["count"] == 0


def test_it_uploads_through_the_page(client, owner, dms_files):
    client.force_login(owner)
    with open(dms_files["csv"], "rb") as fh:
        r = client.post("/models/datasets/", {"file": fh, "name": "via page"})
    assert r.status_code == 302
    assert TrainingDataset.objects.get().name == "via page"
    page = client.get("/models/datasets/")
    assert b"via page" in page.content
    bad = dms_files["fasta"].parent / "bad.csv"
    bad.write_text("mutant,x\nA1C,1\n")
    with open(bad, "rb") as fh:
        r = client.post("/models/datasets/", {"file": fh})
    assert r.status_code == 400 and b"wrong columns" in r.content
    assert TrainingDataset.objects.count() == 1
