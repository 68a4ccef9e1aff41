"""Each task type's result view, for a real completed task (EMT, quick parameters): labels,
units, the DFT verdict, warnings and charts — the same warnings as the API result and the log."""

import pytest
from django.urls import reverse

from tasks_app.results.fields import format_value
from tests.result_tasks import completed_task, slab_structure

pytestmark = pytest.mark.django_db


def page(client, task) -> str:
    response = client.get(reverse("tasks_app:task_detail", args=[task.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_formats_numbers_with_units_and_no_noise():
    assert format_value("cell_angle_change_deg", [-1.63293e-07, 0.0, 0.2]) == "+0.000, +0.000, +0.200"
    assert format_value("dft.volume_vs_dft_pct", -3.14159) == "−3.14"
    assert format_value("imaginary_mode_fraction_mesh", 0.0125) == "1.25"
    assert format_value("fit_rms_residual_ev", 0.0000123) == "0.012"  # shown in meV
    assert format_value("converged", False) == "no" and format_value("supercell", [2, 2, 1]) == "2 × 2 × 1"


def test_optimization_shows_the_dft_comparison_and_its_charts(owner_client, owner, cu_structure, emt):
    task = completed_task(owner, cu_structure, emt, "optimization")
    body = page(owner_client, task)
    for text in (
        "ΔV vs DFT",
        "DFT volume",
        "Å³",
        "RMSD to input",
        "Final fmax (largest force)",
        "eV/Å",
        "Δα, Δβ, Δγ vs input",
        "the ±10 % window",
    ):
        assert text in body, text
    assert "final_fmax_ev_per_a</th>" not in body  # no raw keys as labels
    within = task.result["dft"]["within_10pct_of_dft_volume"]
    assert ("is within the ±10 %" in body) == within
    assert 'id="chart-energy"' in body and "optimizer step" in body and "fmax (eV/Å, log scale)" in body
    assert 'id="chart-volume"' in body
    assert task.result["warnings"] == []


def test_stability_shows_the_rule_stages_and_md_charts_with_stage_bands(owner_client, owner, cu_structure, emt):
    task = completed_task(owner, cu_structure, emt, "stability")
    body = page(owner_client, task)
    for text in (
        "V/V0 (final / input)",
        "RMSD final to input",
        "Rule used",
        "|ΔV| ≤ 10 %",
        'id="result-stages"',
        'id="result-coordination"',
        "ΔCN",
        "time (ps)",
        "temperature (K)",
        "pressure (GPa)",
    ):
        assert text in body, text
    assert body.count('class="band"') >= 3 * 2  # nvt + npt shaded in each of the three MD charts
    assert ">nvt<" in body and ">npt<" in body
    assert ("Stable by the rule" in body) == task.result["stable"]


def test_bulk_modulus_shows_the_eos_fit_and_flags(owner_client, owner, cu_structure, emt):
    task = completed_task(owner, cu_structure, emt, "bulk_modulus")
    body = page(owner_client, task)
    for text in (
        "B0",
        "GPa",
        "DFT B0",
        "B0 − DFT",
        "V0 (EOS minimum)",
        "Fit RMS residual",
        "meV",
        'id="chart-eos"',
        "Birch–Murnaghan fit, B0 =",
        "volume (Å³)",
        "energy (eV)",
        'id="result-eos-points"',
    ):
        assert text in body, text
    assert body.count("<circle") >= 7  # every E(V) point
    assert ("Unstable fit" in body) == task.result["unstable"]


def test_heat_capacity_warns_about_the_unconverged_relaxation(owner_client, owner, cu_structure, emt):
    task = completed_task(owner, cu_structure, emt, "heat_capacity")
    codes = [w["code"] for w in task.result["warnings"]]
    assert "relax_not_converged" in codes  # in the API result …
    warning = next(w["message"] for w in task.result["warnings"] if w["code"] == "relax_not_converged")
    assert task.log_lines.filter(level="WARNING", message=warning).exists()  # … in the log …
    body = page(owner_client, task)
    assert 'id="result-warnings"' in body and "The pre-relaxation did not converge: fmax" in body  # … on the page
    for text in (
        "Cv(300 K)",
        "J/(g·K)",
        "DFT Cv(300 K)",
        "Imaginary modes at Γ",
        'id="chart-cv"',
        "temperature (K)",
        "Cv (J/(g·K))",
    ):
        assert text in body, text


def test_interaction_energy_and_single_point_show_labelled_energies(owner_client, owner, emt, tmp_path, cu_structure):
    task = completed_task(owner, slab_structure(owner, tmp_path), emt, "interaction_energy")
    body = page(owner_client, task)
    for text in ("E_int", "Reference E_int", "E_int − reference", "E(guest, isolated)", "Closest host–guest distance"):
        assert text in body, text
    body = page(owner_client, completed_task(owner, cu_structure, emt, "single_point"))
    assert "Largest force" in body and "Pressure" in body and "GPa" in body


def test_tasks_of_one_kind_compare_side_by_side_and_mixed_kinds_are_refused(owner_client, owner, cu_structure, emt):
    first = completed_task(owner, cu_structure, emt, "optimization")
    second = completed_task(owner, cu_structure, emt, "optimization")
    url = reverse("tasks_app:task_compare")
    body = owner_client.get(url, {"tasks": [first.pk, second.pk]}).content.decode()
    assert "ΔV vs DFT" in body and body.count(str(first.pk)[:8]) >= 1 and str(second.pk)[:8] in body
    assert 'id="compare-energy"' in body and "optimizer step" in body and "emt · Cu-fcc" in body
    other = completed_task(owner, cu_structure, emt, "single_point")
    response = owner_client.get(url, {"tasks": f"{first.pk},{other.pk}"})
    assert response.status_code == 400 and "tasks of one type only" in response.content.decode()
    response = owner_client.get(url, {"tasks": str(first.pk)})
    assert response.status_code == 400 and "at least two" in response.content.decode()
    response = owner_client.get(url, {"tasks": f"{first.pk},00000000-0000-0000-0000-000000000000"})
    assert response.status_code == 400 and "not yours, not completed, or do not exist" in response.content.decode()
