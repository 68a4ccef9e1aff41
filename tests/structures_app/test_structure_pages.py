"""Structure pages: search and filters, crystal facts, the DFT reference in words, downloads,
and every result on the structure across models."""

import io

import pytest
from ase.io import read
from django.urls import reverse

from tests.result_tasks import completed_task

pytestmark = pytest.mark.django_db


def test_the_list_searches_and_filters_as_a_fragment(owner_client, cu_structure):
    url = reverse("structures_app:structure_list")
    body = owner_client.get(url, {"q": "cu4"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Cu-fcc" in body and "<main>" not in body and "1 structure<" in body
    for params in ({"q": "Zn"}, {"min_atoms": "5"}, {"max_atoms": "3"}, {"source": "builtin"}, {"set": "main"}):
        body = owner_client.get(url, params, HTTP_HX_REQUEST="true").content.decode()
        assert "Cu-fcc" not in body and "No structure matches" in body, params
    body = owner_client.get(url, {"min_atoms": "4", "max_atoms": "4", "source": "upload"}).content.decode()
    assert "Cu-fcc" in body and "<main>" in body and 'hx-get="' in body


def test_the_detail_shows_space_group_density_reference_in_words_and_the_viewer(owner_client, owner, tmp_path):
    from ase.build import bulk
    from ase.io import write

    from structures_app.services import store_path

    write(tmp_path / "cu.cif", bulk("Cu", "fcc", a=3.6, cubic=True))
    structure = store_path(tmp_path / "cu.cif", owner=owner, project=owner.username, name="ideal Cu")
    structure.reference = {"dft_volume": 47.0, "dft_b0_gpa": 140.0, "dft_structure": "/secret/internal/opt_Cu.cif"}
    structure.save()
    body = owner_client.get(reverse("structures_app:structure_detail", args=[structure.pk])).content.decode()
    assert 'id="structure-spacegroup">Fm-3m (No. 225)' in body
    assert 'id="structure-density">9.0467 g/cm³' in body  # 4 × 63.546 g/mol in (3.6 Å)³
    assert "DFT-relaxed cell volume 47.00 Å³" in body and "DFT bulk modulus B0 140.00 GPa" in body
    assert "/secret/internal" not in body and "dft_structure" not in body  # no internal path, no raw JSON
    assert 'data-cellview data-source="cell-data"' in body and '"positions": [[' in body


def test_downloads_are_readable_cif_and_extxyz(owner_client, client, outsider, cu_structure):
    for fmt in ("cif", "extxyz"):
        response = owner_client.get(reverse("structures_app:structure_download", args=[cu_structure.pk, fmt]))
        assert response.status_code == 200 and f'filename="Cu-fcc.{fmt}"' in response["Content-Disposition"]
        atoms = read(io.StringIO(response.content.decode()), format=fmt)
        assert atoms.get_chemical_formula() == "Cu4"
    assert (
        owner_client.get(reverse("structures_app:structure_download", args=[cu_structure.pk, "pdb"])).status_code == 404
    )
    client.force_login(outsider)
    assert client.get(reverse("structures_app:structure_download", args=[cu_structure.pk, "cif"])).status_code == 404


def test_the_detail_lists_every_result_on_the_structure_with_its_headline(owner_client, owner, cu_structure, emt):
    task = completed_task(owner, cu_structure, emt, "single_point")
    body = owner_client.get(reverse("structures_app:structure_detail", args=[cu_structure.pk])).content.decode()
    assert str(task.pk)[:8] in body and "emt" in body and "Energy " in body and " eV" in body
