"""Model registry: built-ins, loaders, the per-process cache, staff upload + out-of-process validation."""

import pytest
from ase.build import bulk
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from models_app import cache
from models_app.loaders import ModelLoadError, build_calculator
from models_app.models import MLModel
from tests.conftest import client_for
from tests.mace_model import write_converted_mace, write_tiny_mace


def test_builtin_models_exist_with_sevennet_as_default(builtin_models):
    assert builtin_models["sevennet-0"].is_default
    assert {"sevennet-0", "sevennet-l3i5", "emt"} <= set(builtin_models)
    assert MLModel.objects.filter(is_default=True).count() == 1


def test_the_cache_loads_a_model_once_per_process():
    spec = {"name": "emt", "family": "emt", "sha256": ""}
    cache.unload()
    first = cache.get_calculator(spec, "cpu")
    assert cache.get_calculator(spec, "cpu") is first
    assert cache.loaded_names() == ["emt"]
    assert cache.get_calculator(spec, "cpu", d3=True) is not first  # D3 wrap is a different calculator
    assert cache.unload("emt") == 2 and cache.loaded_names() == []


def test_unknown_family_and_missing_mace_file_fail_clearly():
    with pytest.raises(ModelLoadError, match="unknown model family"):
        build_calculator({"family": "nope"}, "cpu")  # "orb" is a family now (models_app.families)
    with pytest.raises(ModelLoadError, match="model file"):
        build_calculator({"family": "mace"}, "cpu")


@pytest.mark.db_independent
@pytest.mark.slow
def test_sevennet_0_loads_offline_and_gives_energy_forces_stress():
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.calc = build_calculator({"family": "sevennet", "model_name": "7net-0"}, "cpu")
    energy = atoms.get_potential_energy()
    assert -17.5 < energy < -15.5  # ~ -4.1 eV/atom for fcc Cu
    assert atoms.get_forces().shape == (4, 3) and atoms.get_stress().shape == (6,)


@pytest.mark.db_independent
def test_a_converted_mace_model_file_loads_and_computes(tmp_path):
    path = write_converted_mace(tmp_path / "tiny.safetensors")
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.calc = build_calculator({"family": "mace", "model_path": str(path)}, "cpu")
    assert atoms.get_forces().shape == (4, 3)


@pytest.mark.db_independent
def test_a_float64_mace_model_leaves_the_process_default_dtype_alone(tmp_path):
    """A worker's cache holds several models: a float64 MACE must not turn SevenNet's float32 inputs
    into a dtype mismatch (MACECalculator sets torch's default dtype when built)."""
    import torch

    before = torch.get_default_dtype()
    path = write_converted_mace(tmp_path / "tiny.safetensors")
    mace = build_calculator({"family": "mace", "model_path": str(path), "dtype": "float64"}, "cpu")
    assert torch.get_default_dtype() == before == torch.float32
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.rattle(0.02, seed=1)
    atoms.calc = mace
    assert atoms.get_forces().shape == (4, 3)  # float64 weights: inputs were built in float64 for the call
    assert next(mace.models[0].parameters()).dtype == torch.float64
    assert torch.get_default_dtype() == torch.float32
    sevennet = atoms.copy()
    sevennet.calc = build_calculator({"family": "sevennet", "model_name": "7net-0"}, "cpu")
    assert sevennet.get_potential_energy() < 0


@pytest.mark.django_db(transaction=True)
def test_staff_upload_is_validated_by_a_worker_not_the_web_process(operator, worker, tmp_path):
    from tests.conftest import wait_for

    path = write_tiny_mace(tmp_path / "tiny.model")
    client = client_for(operator)
    response = client.post(
        "/api/v1/models/",
        {"name": "tiny-mace", "family": "mace", "file": SimpleUploadedFile("tiny.model", path.read_bytes())},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert response.json()["validation_status"] == "pending"
    model = wait_for(
        lambda: MLModel.objects.exclude(validation_status="pending").filter(name="tiny-mace").first(), timeout=120
    )
    assert model.validation_status == "valid", model.validation_message
    assert "test energy" in model.validation_message
    assert model.model_path.endswith(".safetensors") and model.config["upload_sha256"] != model.sha256
    import hashlib

    assert model.config["upload_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    upload = settings.WORKDIR / "models" / f"{model.config['upload_sha256'][:12]}-tiny.model"
    assert not upload.exists(), "the uploaded pickle is not kept"


@pytest.mark.django_db(transaction=True)
def test_a_malicious_or_broken_model_file_is_rejected(operator, worker, tmp_path):
    """A pickle that runs code when loaded: it runs (if at all) only in the limited child."""
    import pickle

    from tests.conftest import wait_for

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    payload = pickle.dumps(Evil())
    client = client_for(operator)
    response = client.post(
        "/api/v1/models/",
        {"name": "evil", "family": "mace", "file": SimpleUploadedFile("evil.model", payload)},
        format="multipart",
    )
    assert response.status_code == 202
    assert not marker.exists(), "the web process must never unpickle an uploaded model"
    model = wait_for(
        lambda: MLModel.objects.exclude(validation_status="pending").filter(name="evil").first(), timeout=120
    )
    assert model.validation_status == "invalid"


@pytest.mark.django_db
def test_researchers_cannot_upload_models_and_invalid_models_cannot_run(owner, cu_structure, builtin_models):
    client = client_for(owner)
    response = client.post(
        "/api/v1/models/",
        {"name": "x", "family": "mace", "file": SimpleUploadedFile("x.model", b"x")},
        format="multipart",
    )
    assert response.status_code == 403
    MLModel.objects.create(name="broken", family="mace", validation_status="invalid")
    response = client.post(
        "/api/v1/tasks/single_point", {"structure": cu_structure.pk, "model": "broken"}, format="json"
    )
    assert response.status_code == 400 and "not validated" in response.json()["message"]
