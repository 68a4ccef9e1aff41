"""Phonon heat capacity of EMT copper: rises toward Dulong–Petit (3R per mole of atoms)."""

import numpy as np
import pytest
from ase.calculators.emt import EMT

from mofsim_site.executors import Reporter
from tasks_app.executors import heat_capacity
from tasks_app.params import validate_params
from tests.executors.helpers import cu


def test_it_approaches_dulong_petit_for_emt_copper(tmp_path):
    reporter = Reporter(tmp_path)
    params = validate_params("heat_capacity", {"relax_fmax": 0.005})
    assert params["supercell"] == [1, 1, 1] and params["displacement_a"] == 0.01 and params["mesh_length"] == 100
    result = heat_capacity.run(cu(a=3.62, repeat=2), EMT(), params, reporter)  # 32-atom cell

    t = np.array(result["temperatures_k"])
    cv = np.array(result["cv_j_per_mol_atoms_k"])
    assert t[0] == 0 and t[-1] == 1000 and len(t) == 101
    assert np.all(np.diff(cv[1:]) >= -1e-9)  # monotonic
    three_r = 3 * heat_capacity.R_J_PER_MOL_K
    assert cv[-1] == pytest.approx(three_r, rel=0.01)
    assert 0.9 * three_r < cv[t == 300][0] < three_r  # Cu at 300 K is ~24.4 J/K/mol (experiment)
    assert cv[t == 50][0] < 0.6 * three_r
    assert result["cv300_j_per_g_k"] == pytest.approx(result["cv300_j_per_mol_k"] / result["primitive_mass_amu"])
    assert result["n_imaginary_gamma"] == 0
    assert result["n_displacements"] >= 1
    assert [p["displaced_cells"] for p in reporter.points if p.get("stage") == "phonons"] == list(
        range(1, result["n_displacements"] + 1)
    )
    assert (tmp_path / "phonopy.yaml").exists() and (tmp_path / "thermal_properties.npz").exists()
