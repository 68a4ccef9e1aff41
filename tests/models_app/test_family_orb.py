"""ORB loader, verified in an environment with orb-models (skipped cleanly where it is absent).

Runs without Django: the shared venv cannot hold orb-models' pins, so it runs in its own venv
(docs/models.md, "Which families were verified how"):
``/work/venv-orb/bin/python -m pytest tests/models_app/test_family_orb.py --noconftest -p no:django``.
No internet: an ORB v3 model with random weights is built here, its checkpoint served by a local
http.server and fetched through the hub cache, as a worker fetches the real one.
"""

import hashlib

import numpy as np
import pytest
from ase.build import bulk

orb_pretrained = pytest.importorskip("orb_models.forcefield.pretrained")

import torch  # noqa: E402 - after the skip: only where orb-models is installed

from models_app.families import ModelLoadError, hub  # noqa: E402
from models_app.loaders import build_calculator  # noqa: E402
from tests.hub_server import serving  # noqa: E402

NAME = "orb-v3-conservative-inf-omat"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A randomly initialised ``orb-v3-conservative-inf-omat`` network, saved as orb-models saves one."""
    from orb_models.forcefield.atomic_system import SystemConfig

    torch.manual_seed(7)
    model = orb_pretrained.orb_v3_conservative_architecture(
        system_config=SystemConfig(radius=6.0, max_num_neighbors=120)
    )
    root = tmp_path_factory.mktemp("hub")
    path = root / "orb-v3-conservative-inf-omat-20250404.ckpt"
    torch.save(model.state_dict(), path)
    return path


def test_the_family_download_url_is_the_package_own(checkpoint):
    url = hub.source_url({"family": "orb", "model_name": NAME})
    assert url.startswith("https://") and url.endswith("/" + checkpoint.name)
    with pytest.raises(ModelLoadError, match="no model"):
        hub.source_url({"family": "orb", "model_name": "orb-v9"})


def test_orb_weights_from_the_hub_cache_give_energy_forces_and_stress(checkpoint, tmp_path):
    with serving(checkpoint.parent) as server:
        path, digest = hub.cached_weights(server.url(checkpoint.name), "orb", tmp_path / "cache")
    assert digest == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    spec = {"name": "orb-test", "family": "orb", "model_name": NAME, "dtype": "float64", "model_path": str(path)}

    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.rattle(0.05, seed=1)
    atoms.calc = build_calculator(spec, "cpu")
    energy, forces, stress = atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()
    assert np.isfinite(energy) and forces.shape == (4, 3) and stress.shape == (6,)
    assert np.abs(forces).max() > 1e-3  # a real signal for the gradient check below

    # the same weights straight through orb-models give the same energy: the loader used the file
    reference = atoms.copy()
    from orb_models.forcefield.calculator import ORBCalculator

    net = orb_pretrained.orb_v3_conservative_inf_omat(
        weights_path=str(checkpoint), device="cpu", precision="float64", compile=False
    )
    reference.calc = ORBCalculator(net, device="cpu")
    assert reference.get_potential_energy() == pytest.approx(energy, rel=1e-10)

    # conservative model: the force is minus the energy's gradient (central difference)
    step, moved = 1e-4, atoms.copy()
    moved.calc = atoms.calc
    moved.positions[0, 0] += step
    e_plus = moved.get_potential_energy()
    moved.positions[0, 0] -= 2 * step
    e_minus = moved.get_potential_energy()
    assert -(e_plus - e_minus) / (2 * step) == pytest.approx(forces[0, 0], abs=1e-5 + 1e-3 * abs(forces[0, 0]))


def test_orb_refuses_to_download_by_itself():
    with pytest.raises(ModelLoadError, match="must be a local file"):
        build_calculator({"family": "orb", "model_name": NAME}, "cpu")
