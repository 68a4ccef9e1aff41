"""MatterSim loader, verified in an environment with mattersim (skipped cleanly where it is absent).

Runs without Django, in its own venv (docs/models.md, "Which families were verified how"):
``/work/venv-mattersim/bin/python -m pytest tests/models_app/test_family_mattersim.py --noconftest -p no:django``.
No internet: a tiny randomly initialised M3GNet is saved as a MatterSim checkpoint here, served
by a local http.server and fetched through the hub cache, as a worker fetches the real one.
"""

import hashlib
import inspect

import numpy as np
import pytest
from ase.build import bulk

pytest.importorskip("mattersim.forcefield")

import torch  # noqa: E402 - after the skip: only where mattersim is installed

from models_app.families import hub, mattersim  # noqa: E402
from models_app.loaders import build_calculator  # noqa: E402
from tests.hub_server import serving  # noqa: E402

ARGS = {"num_blocks": 1, "units": 16, "max_l": 2, "max_n": 2, "cutoff": 5.0, "threebody_cutoff": 4.0}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A random M3GNet in the layout ``Potential.from_checkpoint`` reads (model_name, model_args, model)."""
    from mattersim.forcefield.m3gnet.m3gnet import M3Gnet

    torch.manual_seed(3)
    model = M3Gnet(device="cpu", **ARGS)
    with torch.no_grad():  # default init gives forces ~1e-4 eV/Å: too small for the gradient check
        for parameter in model.parameters():
            parameter.normal_(0, 0.5)
    path = tmp_path_factory.mktemp("hub") / "mattersim-v1.0.0-1M.pth"
    torch.save({"model_name": "m3gnet", "model_args": dict(ARGS), "model": model.state_dict()}, path)
    return path


def test_the_hub_url_is_the_one_mattersim_builds():
    from mattersim.utils.download_utils import download_checkpoint

    assert f'"{mattersim.CHECKPOINT_PREFIX}"' in inspect.getsource(download_checkpoint)


def test_mattersim_weights_from_the_hub_cache_give_energy_forces_and_stress(checkpoint, tmp_path):
    with serving(checkpoint.parent) as server:
        path, digest = hub.cached_weights(server.url(checkpoint.name), "mattersim", tmp_path / "cache")
    assert digest == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    spec = {"name": "ms-test", "family": "mattersim", "model_name": "MatterSim-v1.0.0-1M", "model_path": str(path)}

    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.rattle(0.05, seed=1)
    atoms.calc = build_calculator(spec, "cpu")
    energy, forces, stress = atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()
    assert np.isfinite(energy) and forces.shape == (4, 3) and stress.shape == (6,)
    assert np.abs(forces).max() > 0.05  # a real signal for the checks below

    from mattersim.forcefield import MatterSimCalculator  # the package's own path, same file

    reference = atoms.copy()
    reference.calc = MatterSimCalculator(load_path=str(checkpoint), device="cpu")
    assert reference.get_potential_energy() == pytest.approx(energy, rel=1e-6)

    step, moved = 1e-3, atoms.copy()  # forces are -dE/dx (autograd), float32
    moved.calc = atoms.calc
    moved.positions[0, 0] += step
    e_plus = moved.get_potential_energy()
    moved.positions[0, 0] -= 2 * step
    e_minus = moved.get_potential_energy()
    f0 = float(forces[0, 0])
    assert -(e_plus - e_minus) / (2 * step) == pytest.approx(f0, abs=2e-3 + 2e-2 * abs(f0))
