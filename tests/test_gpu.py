"""GPU checks: run only where CUDA is available (never in CI, which has no GPU); skipped cleanly otherwise."""

import pytest
import torch

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine"),
]


def test_sevennet_on_cuda_matches_cpu():
    from ase.build import bulk

    from models_app.loaders import build_calculator

    energies = {}
    for device in ("cpu", "cuda"):
        atoms = bulk("Cu", "fcc", a=3.62, cubic=True).repeat(2)
        atoms.rattle(0.02, seed=1)
        atoms.calc = build_calculator({"family": "sevennet", "model_name": "7net-0"}, device)
        energies[device] = atoms.get_potential_energy()
    assert energies["cuda"] == pytest.approx(energies["cpu"], abs=2e-3)


@pytest.mark.django_db
def test_a_task_on_cuda_records_the_gpu(owner, cu_structure, builtin_models, run_inline):
    from tasks_app.params import validate_params
    from tasks_app.services import enqueue_task

    task = enqueue_task(owner=owner, kind="single_point", params=validate_params("single_point", {}),
                        structure=cu_structure, model=builtin_models["sevennet-0"])  # fmt: skip
    task = run_inline(task, device="cuda")
    assert task.status == "COMPLETED", task.error
    provenance = task.result["provenance"]
    assert provenance["device"] == "cuda" and provenance["gpu_name"] == torch.cuda.get_device_name()
