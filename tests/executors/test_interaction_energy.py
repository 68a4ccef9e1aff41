"""Host–guest interaction energy with EMT (which has parameters for C, H, N, O and Cu)."""

import numpy as np
import pytest
from ase.build import fcc111
from ase.calculators.emt import EMT
from rest_framework.exceptions import ValidationError

from mofsim_site.executors import Reporter
from tasks_app.executors import interaction_energy
from tasks_app.params import validate_params

# Database-independent: CI's PostgreSQL pass skips these (the embedded pass runs them; tests/conftest.py).
pytestmark = pytest.mark.db_independent


def slab():
    host = fcc111("Cu", size=(5, 5, 2), vacuum=12.0)  # 12.8 Å wide: guest images do not see each other
    host.pbc = True
    return host


def place(host, height, guest="CO2"):
    top = host.positions[:, 2].max()
    xy = host.positions[-1, :2]
    return validate_params("interaction_energy", {"guest": guest, "guest_position": [*xy, top + height]})


def test_a_far_guest_does_not_interact(tmp_path):
    host = slab()
    result = interaction_energy.run(host, EMT(), place(host, 11.0), Reporter(tmp_path))
    assert result["min_host_guest_distance_a"] > 9
    assert result["interaction_energy_ev"] == pytest.approx(0.0, abs=1e-6)
    assert result["guest_formula"] == "CO2" and result["guest_energy_geometry"] == "g2"


def test_a_close_guest_interacts_and_complex_mode_agrees(tmp_path):
    host = slab()
    placed = interaction_energy.run(host, EMT(), place(host, 2.0, "H2O"), Reporter(tmp_path / "a"))
    assert abs(placed["interaction_energy_ev"]) > 0.05

    complex_ = interaction_energy.assemble(host, place(host, 2.0, "H2O"))[0]  # guest atoms tagged 1
    complex_.info.update({"DFT_E_total": -1.0, "DFT_E_mof": -0.5, "DFT_E_gas": -0.2})
    complex_.arrays["REF_forces"] = np.zeros((len(complex_), 3))
    params = validate_params("interaction_energy", {"mode": "complex", "guest": "H2O"})
    again = interaction_energy.run(complex_, EMT(), params, Reporter(tmp_path / "b"))
    assert again["interaction_energy_ev"] == pytest.approx(placed["interaction_energy_ev"], abs=1e-9)
    assert again["reference_interaction_energy_ev"] == pytest.approx(-0.3)
    assert again["interaction_energy_error_ev"] == pytest.approx(placed["interaction_energy_ev"] + 0.3)
    assert again["force_mae_ev_per_a"] == pytest.approx(np.abs(again["forces_complex_ev_per_a"]).mean())


def test_a_rotation_moves_the_guest_about_its_centre_of_mass():
    plain, turned = interaction_energy.build_guest("CO2"), interaction_energy.build_guest("CO2", (0, 90, 0))
    assert np.allclose(plain.get_center_of_mass(), turned.get_center_of_mass())
    assert not np.allclose(plain.positions, turned.positions)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"guest": "CO2"}, "guest_position"),
        ({"guest_position": [0, 0, 0]}, "guest"),
        ({"guest": "Ar", "guest_position": [0, 0, 0]}, "guest"),
        ({"mode": "complex", "guest_position": [0, 0, 0]}, "guest_position"),
        ({"mode": "complex", "guest_indices": [1, 1]}, "guest_indices"),
        ({"guest": "CO2", "guest_position": [0, 0]}, "guest_position"),
        ({"mode": "complex", "reference": {"forces_ev_per_a": [[0, 0]]}}, "reference"),
    ],
)
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises(ValidationError) as err:
        validate_params("interaction_energy", params)
    assert field in err.value.detail
