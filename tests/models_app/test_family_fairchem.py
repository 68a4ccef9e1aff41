"""fairchem loader, verified in an environment with fairchem-core (skipped cleanly where it is absent).

Runs without Django, in its own venv (docs/models.md, "Which families were verified how"):
``/work/venv-fairchem/bin/python -m pytest tests/models_app/test_family_fairchem.py --noconftest -p no:django``.
No internet (and UMA weights are gated): tiny randomly initialised conserving models — an eSEN
(``eSCNMDBackbone``) and a UMA-like mixture of 2 experts (``eSCNMDMoeBackbone``, tagged 1.1), one
layer, 8 channels — are written here as fairchem writes an inference checkpoint: a pickled
``MLIPInferenceCheckpoint`` holding the hydra model config, the weights, their EMA copy and the
task configs (energy, forces, stress per dataset: ``omat``; UMA also ``omol``),
served by a local http.server and fetched through the hub cache, as a worker fetches a
``weights_url``.
"""

import copy
import hashlib

import numpy as np
import pytest
from ase.build import bulk

pytest.importorskip("fairchem.core")

import torch  # noqa: E402 - after the skip: only where fairchem is installed

from models_app.families import ModelLoadError, hub  # noqa: E402
from models_app.loaders import build_calculator  # noqa: E402
from tests.hub_server import serving  # noqa: E402

COMMON = {
    "sphere_channels": 8,
    "hidden_channels": 8,
    "edge_channels": 8,
    "num_distance_basis": 16,
    "lmax": 2,
    "mmax": 2,
    "num_layers": 1,
    "cutoff": 5.0,
    "max_neighbors": 30,
    "otf_graph": True,
    "direct_forces": False,  # conserving: forces and stress are autograd derivatives of the energy
    "regress_forces": True,
    "regress_stress": True,
}
# eSEN: the plain backbone, one dataset. UMA: the mixture-of-linear-experts backbone (2 experts,
# tagged 1.1 as uma-s-1p1 is), two datasets; fairchem's default preset merges its experts.
KINDS = {
    "esen": ({"model": "fairchem.core.models.uma.escn_md.eSCNMDBackbone"}, ["omat"]),
    "uma": (
        {
            "model": "fairchem.core.models.uma.escn_moe.eSCNMDMoeBackbone",
            "num_experts": 2,
            "model_version": 1.1,
            "use_composition_embedding": True,
        },
        ["omat", "omol"],
    ),
}
NORMALIZER = "fairchem.core.modules.normalization.normalizer"


def _model_config(kind: str) -> dict:
    backbone, datasets = KINDS[kind]
    return {
        "_target_": "fairchem.core.models.base.HydraModel",
        "backbone": {**backbone, **COMMON, "dataset_mapping": {name: name for name in datasets}},
        "heads": {
            "efs": {
                "module": "fairchem.core.models.uma.escn_moe.DatasetSpecificSingleHeadWrapper",
                "head_cls": "fairchem.core.models.uma.escn_md.MLP_EFS_Head",
                "head_kwargs": {"wrap_property": False},
                "dataset_names": datasets,
            }
        },
        "pass_through_head_outputs": True,
    }


def _tasks_config(kind: str) -> list[dict]:
    """Energy, forces and stress per dataset, identity normalisers, no element references."""
    outputs = (("energy", "system", 1), ("forces", "atom", 3), ("stress", "system", 9))
    return [
        {
            "_target_": "fairchem.core.units.mlip_unit.mlip_unit.Task",
            "name": f"{dataset}_{prop}",
            "level": level,
            "property": prop,
            "out_spec": {"dim": [dim], "dtype": "float32"},
            "normalizer": {"_target_": f"{NORMALIZER}.Normalizer", "mean": 0.0, "rmsd": 1.0},
            "datasets": [dataset],
        }
        for dataset in KINDS[kind][1]
        for prop, level, dim in outputs
    ]


@pytest.fixture(scope="module", params=list(KINDS))
def checkpoint(request, tmp_path_factory):
    """A random model saved as an ``MLIPInferenceCheckpoint`` (what ``load_predict_unit`` reads)."""
    return _write_checkpoint(request.param, tmp_path_factory.mktemp("hub"))


@pytest.fixture(scope="module")
def uma_checkpoint(tmp_path_factory):
    return _write_checkpoint("uma", tmp_path_factory.mktemp("hub"))


def _write_checkpoint(kind, folder):
    import hydra
    from fairchem.core.units.mlip_unit.api.inference import MLIPInferenceCheckpoint

    torch.manual_seed(11)
    config = _model_config(kind)
    model = hydra.utils.instantiate(copy.deepcopy(config))
    with torch.no_grad():  # default init gives forces ~1e-3 eV/Å: too small for the gradient check
        for parameter in model.parameters():
            parameter.mul_(3.0)
    ema = torch.optim.swa_utils.AveragedModel(model)  # inference loads the EMA weights
    saved = MLIPInferenceCheckpoint(
        model_config=config,
        model_state_dict=model.state_dict(),
        ema_state_dict=ema.state_dict(),
        tasks_config=_tasks_config(kind),
    )
    path = folder / f"{kind}-random.pt"
    torch.save(saved, path)
    return path


@pytest.fixture
def atoms():
    crystal = bulk("Cu", "fcc", a=3.6, cubic=True)
    crystal.rattle(0.05, seed=1)
    return crystal


def _reference(checkpoint, settings):
    """fairchem's own entry point for a checkpoint file, bypassing our loader."""
    from fairchem.core import FAIRChemCalculator

    return FAIRChemCalculator.from_model_checkpoint(
        str(checkpoint), task_name="omat", inference_settings=settings, device="cpu"
    )


def test_fairchem_weights_from_the_hub_cache_give_energy_forces_and_stress(checkpoint, atoms, tmp_path):
    from fairchem.core.units.mlip_unit.api.inference import InferenceSettings

    with serving(checkpoint.parent) as server:
        path, digest = hub.cached_weights(server.url(checkpoint.name), "fairchem", tmp_path / "cache")
    assert digest == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    spec = {
        "family": "fairchem",
        "model_path": str(path),
        "task_name": "omat",
        "dtype": "float64",
        "inference_settings": "batch",  # uncompiled
    }
    atoms.calc = build_calculator(spec, "cpu")
    energy, forces, stress = atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()
    assert np.isfinite(energy) and forces.shape == (4, 3) and stress.shape == (6,)
    assert np.abs(forces).max() > 1e-2  # a real signal for the gradient check below

    # fairchem's own path on the original file, same preset and dtype: the same numbers
    reference = atoms.copy()
    settings = InferenceSettings(
        tf32=False, activation_checkpointing=True, merge_mole=False, compile=False, base_precision_dtype=torch.float64
    )
    reference.calc = _reference(checkpoint, settings)
    assert reference.get_potential_energy() == pytest.approx(energy, rel=1e-12)
    np.testing.assert_allclose(reference.get_forces(), forces, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(reference.get_stress(), stress, rtol=1e-10, atol=1e-12)

    # conservative model in float64: the force is minus the energy's gradient (central difference)
    step, moved = 1e-4, atoms.copy()
    moved.calc = atoms.calc
    moved.positions[0, 0] += step
    e_plus = moved.get_potential_energy()
    moved.positions[0, 0] -= 2 * step
    e_minus = moved.get_potential_energy()
    assert -(e_plus - e_minus) / (2 * step) == pytest.approx(forces[0, 0], abs=1e-6 + 1e-4 * abs(forces[0, 0]))


def test_fairchem_default_preset_matches_fairchem_own_default(uma_checkpoint, atoms):
    """The preset a row gets when it names none: on a CPU fairchem merges the experts and compiles."""
    atoms.calc = build_calculator({"family": "fairchem", "model_path": str(uma_checkpoint)}, "cpu")
    reference = atoms.copy()
    reference.calc = _reference(uma_checkpoint, "default")
    assert atoms.get_potential_energy() == pytest.approx(reference.get_potential_energy(), rel=1e-6)
    expected = reference.get_forces()  # float32, compiled: agree to float32 rounding of the largest force
    np.testing.assert_allclose(atoms.get_forces(), expected, rtol=0, atol=1e-6 * np.abs(expected).max())


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"model_name": "uma-xl-9"}, "fairchem has no model 'uma-xl-9'"),
        ({"model_path": "/nonexistent/uma.pt"}, "is not a file"),
        ({"model_name": "uma-s-1p1", "inference_settings": "turbo"}, "no inference_settings 'turbo'"),
        ({"model_name": "uma-s-1p1", "dtype": "float16"}, "runs in float32 or float64"),
    ],
)
def test_fairchem_bad_specs_are_refused_before_any_download(spec, message):
    with pytest.raises(ModelLoadError, match=message):
        build_calculator({"family": "fairchem", **spec}, "cpu")


def test_fairchem_refuses_a_task_the_checkpoint_lacks(uma_checkpoint):
    with pytest.raises(ModelLoadError, match="no task 'odac'; it has omat, omol"):
        build_calculator({"family": "fairchem", "model_path": str(uma_checkpoint), "task_name": "odac"}, "cpu")
