"""Structure upload: good CIF, broken/oversized/wrong-type files, path-traversal names."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from structures_app.models import Structure

pytestmark = pytest.mark.django_db


def upload(api, filename, content, **extra):
    data = {"file": SimpleUploadedFile(filename, content), **extra}
    return api.post("/api/v1/structures/", data, format="multipart")


def test_it_accepts_a_good_cif(api, cu_cif, owner):
    response = upload(api, "Cu_fcc.cif", cu_cif.read_bytes(), name="copper")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["formula"] == "Cu4" and body["n_atoms"] == 4 and body["name"] == "copper"
    assert body["volume"] == pytest.approx(3.70**3, rel=0.02)
    import hashlib

    assert body["sha256"] == hashlib.sha256(cu_cif.read_bytes()).hexdigest()
    stored = Structure.objects.get(pk=body["id"])
    assert stored.path.startswith("raw/owner/") and stored.absolute_path.is_file()


def test_it_accepts_an_xyz_molecule(api):
    xyz = b"3\nwater\nO 0 0 0\nH 0.76 0.59 0\nH -0.76 0.59 0\n"
    response = upload(api, "water.xyz", xyz)
    assert response.status_code == 201, response.content
    assert response.json()["periodic"] is False and response.json()["volume"] is None


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("broken.cif", b"data_x\n_cell_length_a banana\nloop_\n_atom_site_label\n", "could not parse"),
        ("empty.cif", b"", "file is empty"),
        ("virus.exe", b"MZ\x90\x00", "unsupported file type '.exe'"),
        ("noext", b"whatever", "unsupported file type"),
        ("overlap.xyz", b"2\n\nC 0 0 0\nC 0 0 0.1\n", "overlapping atoms"),
    ],
)
def test_it_rejects_bad_files_with_a_clear_400(api, name, content, needle):
    before = Structure.objects.count()
    response = upload(api, name, content)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "invalid" and "file" in body["details"]
    assert needle in body["message"]
    assert Structure.objects.count() == before
    assert not any((settings.WORKDIR / "tmp").glob("tmp*")), "a temp file was left behind"


def test_it_rejects_an_oversized_file(api, cu_cif, settings):
    settings.STRUCTURE_UPLOAD_MAX_BYTES = 100
    response = upload(api, "Cu_fcc.cif", cu_cif.read_bytes())
    assert response.status_code == 413
    assert "larger than the limit of 100 bytes" in response.json()["message"]
    assert Structure.objects.count() == 0


@pytest.mark.parametrize("evil", ["../../../etc/passwd.cif", "..\\..\\win.cif", "/abs/path/x.cif", "a/../../b.cif"])
def test_path_traversal_names_stay_inside_workdir(api, cu_cif, evil):
    response = upload(api, evil, cu_cif.read_bytes())
    assert response.status_code == 201, response.content
    stored = Structure.objects.get(pk=response.json()["id"])
    resolved = (settings.WORKDIR / stored.path).resolve()
    assert resolved.is_relative_to(settings.WORKDIR / "raw" / "owner")
    assert ".." not in stored.path and not Path(stored.path).is_absolute()


def test_outsiders_cannot_see_my_structures(api, cu_cif, outsider):
    from tests.conftest import client_for

    structure_id = upload(api, "Cu_fcc.cif", cu_cif.read_bytes()).json()["id"]
    assert client_for(outsider).get(f"/api/v1/structures/{structure_id}/").status_code == 404
    assert structure_id not in [s["id"] for s in client_for(outsider).get("/api/v1/structures/").json()["results"]]


def test_builtin_sets_load_with_dft_references(db):
    from structures_app.builtin import load_set

    essential = load_set("essential")
    structures = list(essential.ordered_structures())
    assert [s.name for s in structures] == [
        "MOF-5_primitive",
        "IRMOF-10_primitive",
        "UiO-66_primitive",
        "HKUST-1_primitive",
    ]
    assert [s.n_atoms for s in structures] == [106, 166, 114, 156]
    assert structures[0].reference["dft_b0_gpa"] == pytest.approx(16.06, abs=0.01)
    again = load_set("essential")  # idempotent
    assert again.structures.count() == 4 and Structure.objects.count() == 4
