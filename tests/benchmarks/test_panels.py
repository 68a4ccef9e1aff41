"""Per-structure panels of a benchmark report (E(V), Cv(T)) from hand-made rows and results."""

import numpy as np
from ase.units import GPa

from tasks_app.benchmarks.panels import structure_panels
from tasks_app.results.charts import birch_murnaghan_curve


def bm_points(b0_gpa: float, v0: float = 46.0, e0: float = -12.0, bp: float = 4.5) -> list[dict]:
    """Seven points on a Birch–Murnaghan curve around V0 (what the executor stores)."""
    from ase.eos import birchmurnaghan

    volumes = np.linspace(0.94 * v0, 1.06 * v0, 7)
    energies = birchmurnaghan(volumes, e0, b0_gpa * GPa, bp, v0)
    pairs = zip(volumes, energies, strict=True)
    return [{"volume_a3": float(v), "energy_ev": float(e), "converged": True} for v, e in pairs]


def row(task_id: str, structure: str, **values) -> dict:
    return {"task_id": task_id, "structure": structure, "eos_stable": None, "dft_b0_gpa": None, **values}


def test_it_draws_one_eos_panel_per_structure_with_b0_and_dft_b0_in_the_title():
    rows = [
        row("t1", "MOF-A", b0_gpa=140.0, dft_b0_gpa=150.0, eos_stable=True),
        row("t2", "MOF-B", b0_gpa=12.3, dft_b0_gpa=None, eos_stable=False),
        row("t3", "MOF-C (failed)", b0_gpa=None),
    ]
    results = {"t1": {"points": bm_points(140.0)}, "t2": {"points": bm_points(12.3)}, "t3": None}
    panels = structure_panels("bulk_modulus", rows, results)
    assert [p["structure"] for p in panels] == ["MOF-A", "MOF-B"]  # no result, no panel
    first, second = panels
    assert first["title"] == "B0 140.0 GPa · DFT 150.0 GPa"
    assert second["title"] == "B0 12.3 GPa · DFT — GPa"
    assert first["flags"] == [] and second["flags"] == ["unstable fit"]
    svg = first["svg"]
    assert "volume (Å³)" in svg and "E − E_min (eV)" in svg
    assert svg.count("<circle") == 7  # the computed points
    assert svg.count("<path") == 2  # the fit and the DFT-B0 curve
    assert second["svg"].count("<path") == 1  # no DFT value, no DFT curve
    assert 'class="legend"' not in svg  # one shared legend on the page instead


def test_the_dft_curve_keeps_the_minimum_and_takes_the_dft_stiffness():
    points = bm_points(100.0)
    fitted = birch_murnaghan_curve(points, n=41)
    stiffer = birch_murnaghan_curve(points, n=41, b0_gpa=200.0)
    minimum = min(fitted, key=lambda p: p[1])
    assert abs(min(stiffer, key=lambda p: p[1])[0] - minimum[0]) < 0.2  # same V0 (grid step 0.14 Å³)
    rise = fitted[0][1] - minimum[1]
    # Near the minimum E − E0 ≈ B0 (V − V0)² / 2V0: twice the B0, about twice the rise at 6 % strain.
    assert 1.8 < (stiffer[0][1] - minimum[1]) / rise < 2.2


def test_it_draws_cv_against_temperature_with_the_dft_point():
    temperatures = [0.0, 100.0, 200.0, 300.0, 400.0]
    cv = [0.0, 0.2, 0.33, 0.37, 0.38]
    rows = [row("t1", "Cu", cv300_j_per_g_k=0.37, dft_cv300_j_per_g_k=0.385)]
    results = {"t1": {"temperatures_k": temperatures, "cv_j_per_g_k": cv,
                      "warnings": [{"code": "relax_not_converged", "message": "…"}]}}  # fmt: skip
    (panel,) = structure_panels("heat_capacity", rows, results)
    assert panel["title"] == "Cv(300 K) 0.370 · DFT 0.385 J/(g·K)"
    assert panel["flags"] == ["relax not converged"]
    assert "temperature (K)" in panel["svg"] and "Cv (J/(g·K))" in panel["svg"]
    assert panel["svg"].count("<path") == 1 and panel["svg"].count("<circle") == 1
    assert "DFT Cv(300 K) = 0.3850 J/(g·K)" in panel["svg"]


def test_other_kinds_have_no_panels():
    assert structure_panels("optimization", [row("t1", "Cu")], {"t1": {"final": {}}}) == []
