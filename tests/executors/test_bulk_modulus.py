"""Bulk modulus executor vs ASE's own EOS on EMT copper; the instability flag."""

import numpy as np
import pytest
from ase.calculators.emt import EMT
from ase.eos import EquationOfState
from ase.units import GPa

from mofsim_site.executors import Reporter
from tasks_app.executors import bulk_modulus
from tasks_app.params import validate_params
from tests.executors.helpers import cu


def ase_reference_b0(a0: float) -> float:
    """Independent reference: scale fcc Cu about ``a0`` (no internal freedom), fit BM with ASE."""
    volumes, energies = [], []
    for s in np.linspace(0.96, 1.04, 11):
        atoms = cu(a=a0 * s ** (1 / 3))
        atoms.calc = EMT()
        volumes.append(atoms.get_volume())
        energies.append(atoms.get_potential_energy())
    _, _, b = EquationOfState(volumes, energies, eos="birchmurnaghan").fit()
    return b / GPa


def test_it_matches_ase_eos_for_emt_copper(tmp_path):
    params = validate_params("bulk_modulus", {})
    assert params["npoints"] == 11 and params["eps"] == 0.04 and params["relax_fmax"] == 0.001
    result = bulk_modulus.run(cu(a=3.70), EMT(), params, Reporter(tmp_path))

    a0 = result["relaxed_volume_a3"] ** (1 / 3)  # cubic 4-atom cell
    assert result["b0_gpa"] == pytest.approx(ase_reference_b0(a0), rel=1e-3)
    assert 120 < result["b0_gpa"] < 150  # EMT Cu is ~134 GPa (experiment 140)
    assert len(result["points"]) == 11 and result["all_points_converged"]
    vols = [p["volume_a3"] for p in result["points"]]
    assert vols[0] == pytest.approx(0.96 * result["relaxed_volume_a3"]) and vols[-1] == pytest.approx(
        1.04 * result["relaxed_volume_a3"]
    )
    assert result["unstable"] is False and abs(result["v0_deviation_from_relaxed_pct"]) < 0.1
    assert result["fit_rms_residual_ev"] < 1e-4
    assert (tmp_path / "relaxed.cif").exists() and (tmp_path / "trajectory.traj").exists()


def test_it_flags_an_eos_minimum_far_from_the_relaxed_volume():
    volumes = np.linspace(96, 104, 11)
    energies = 0.01 * (volumes - 103.0) ** 2  # minimum 3 % above the "relaxed" 100 Å³
    fit = bulk_modulus.fit_eos(volumes, energies, 100.0)
    assert fit["unstable"] is True and fit["v0_deviation_from_relaxed_pct"] == pytest.approx(3.0, abs=0.3)
    assert bulk_modulus.fit_eos(volumes, 0.01 * (volumes - 100.2) ** 2, 100.0)["unstable"] is False
