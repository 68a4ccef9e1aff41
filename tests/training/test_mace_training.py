"""A tiny MACE trained on EMT-labelled Cu frames: held-out force error drops, the model is
registered (family mace, source trained, validated out of process) and runs a single point."""

import pytest
from ase.calculators.emt import EMT

from models_app.models import MLModel
from tests.training.conftest import upload

pytestmark = pytest.mark.django_db


def test_it_fine_tunes_mace_registers_it_and_runs_a_single_point(api, emt_frames, cu_structure, run_inline):
    dataset = upload(api, emt_frames).json()
    assert dataset["kind"] == "structures" and dataset["n_records"] == 20
    r = api.post(
        "/api/v1/jobs",
        {
            "kind": "train_mace",
            "dataset": dataset["id"],
            "epochs": 12,
            "plan": {"train.lr": 5e-3, "train.batch_size": 4, "model.name": "cu-emt-mace", "model.r_max": 4.0},
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    job = run_inline(api_task(r))
    assert job.status == "COMPLETED", job.error + job.traceback
    result = job.result
    assert result["final"]["force_mae"] < 0.6 * result["initial"]["force_mae"], result
    assert result["registered_model"]["name"] == "cu-emt-mace"
    assert {"model.model", "metrics.json", "train.log", "plan.json", "splits.csv"} <= {
        a.name for a in job.artifacts.all()
    }

    model = MLModel.objects.get(name="cu-emt-mace")
    assert (model.family, model.source, model.validation_status) == ("mace", "trained", "valid"), (
        model.validation_message
    )

    r = api.post("/api/v1/tasks/single_point", {"structure": cu_structure.pk, "model": model.name}, format="json")
    assert r.status_code == 201, r.content
    sp = run_inline(api_task(r))
    assert sp.status == "COMPLETED", sp.error
    atoms = cu_structure.read_atoms() if hasattr(cu_structure, "read_atoms") else None
    if atoms is not None:
        atoms.calc = EMT()
        # a 12-epoch MACE is no EMT, but its energy must be finite and on the right scale
        assert abs(sp.result["energy_ev"] - atoms.get_potential_energy()) < 5.0


def api_task(response):
    from tasks_app.models import Task

    return Task.objects.get(pk=response.json()["id"])
