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


def test_the_batched_engine_on_cuda_matches_the_calculator_on_cuda_and_on_cpu():
    """The parity contract on the device production uses: one batched pass on the GPU against the
    ASE calculator one structure at a time, on the GPU and on the CPU (float32 round-off)."""
    import numpy as np

    from models_app.batched import engine_for
    from models_app.loaders import build_calculator
    from tests.batched.conftest import main_set

    structures = main_set("calf", "NUVCUD_full", "SAS_primitive", "AGEDIC_full", "Zn-MOF-74")
    calculators = {d: build_calculator({"family": "sevennet", "model_name": "7net-0"}, d) for d in ("cpu", "cuda")}
    engine = engine_for(calculators["cuda"])
    assert engine.device.startswith("cuda")
    outcomes = engine.evaluate(structures)
    assert engine.counters.passes == 1
    for atoms, outcome in zip(structures, outcomes, strict=True):
        assert outcome.ok, outcome.error
        for calc in calculators.values():
            copy = atoms.copy()
            copy.calc = calc
            assert abs(outcome.energy - copy.get_potential_energy()) <= 1e-5 * len(atoms)  # eV
            assert np.abs(outcome.forces - copy.get_forces()).max() < 5e-4  # eV/Å
            assert np.abs(outcome.stress - copy.get_stress()).max() < 1e-5  # eV/Å³


def test_lockstep_md_on_cuda_follows_the_calculator_on_cuda(tmp_path):
    """Batched MD on the GPU (ASE dynamics in lockstep, one pass per step) against each structure's
    own MD through the calculator on the GPU: same seeds, positions at float32 round-off."""
    import numpy as np

    from models_app.batched import engine_for
    from models_app.loaders import build_calculator
    from mofsim_site.executors import Reporter
    from tasks_app.executors.md import MDRun, run_md, run_md_together
    from tests.batched.conftest import main_set

    calc = build_calculator({"family": "sevennet", "model_name": "7net-0"}, "cuda")
    structures = main_set("calf", "NUVCUD_full", "SAS_primitive")
    for ensemble in ("nvt_langevin", "npt_mtk"):
        stage = {"name": ensemble, "ensemble": ensemble, "steps": 5, "temperature_k": 300.0, "timestep_fs": 1.0,
                 "init_velocities": True, "velocity_seed": 0, "langevin_seed": 0}  # fmt: skip
        mine = [a.copy() for a in structures]
        done = run_md_together(engine_for(calc), [MDRun(a, stage, Reporter(tmp_path)) for a in mine])
        for start, atoms, result in zip(structures, mine, done, strict=True):
            assert result.error is None, result.error
            theirs = start.copy()
            theirs.calc = calc
            run_md(theirs, stage, report=Reporter(tmp_path))
            assert np.abs(atoms.positions - theirs.positions).max() < 1e-5  # Å
            assert atoms.get_volume() == pytest.approx(theirs.get_volume(), rel=1e-6)
