"""Real completed tasks of every MOFSimBench type, for the result-view tests (pages and browser).

Each task goes through the submit path and the inline runner (the same claim, state machine and
executor a worker uses) with EMT on a small Cu cell and quick parameters. DFT reference values are
given explicitly, so the DFT comparisons and verdicts appear; a heat-capacity pre-relaxation cut
to 2 steps does not converge, so its warning appears.
"""

from ase.build import fcc111
from ase.io import write

from structures_app.services import store_path
from tasks_app.inline import run_task_inline
from tasks_app.params import validate_params
from tasks_app.services import enqueue_task

PARAMS = {
    "single_point": {},
    "optimization": {"fmax": 0.01, "steps": 200, "reference": {"dft_volume": 47.0}},
    "stability": {"coordination": True, "opt_steps": 10, "nvt_steps": 20, "npt_steps": 30, "trajectory_interval": 5},
    "bulk_modulus": {"npoints": 7, "relax_steps": 60, "point_steps": 15, "reference": {"dft_b0_gpa": 140.0}},
    "heat_capacity": {
        "relax_steps": 2,
        "relax_fmax": 1e-4,
        "mesh_length": 10.0,
        "reference": {"dft_cv300_j_per_g_k": 0.385},
    },
    "interaction_energy": {
        "mode": "place_guest",
        "guest": "CO2",
        "guest_position": [3.8, 2.2, 11.2],
        "guest_rotation_deg": [0, 90, 0],
        "reference": {"interaction_energy_ev": -0.2},
    },
}


def completed_task(owner, structure, model, kind):
    params = validate_params(kind, PARAMS[kind], "quick")
    task = enqueue_task(owner=owner, kind=kind, params=params, structure=structure, model=model)
    run_task_inline(task)
    task.refresh_from_db()
    assert task.status == "COMPLETED", (kind, task.error)
    return task


def slab_structure(owner, folder):
    """A Cu(111) slab with vacuum above it: a host for the interaction-energy task."""
    host = fcc111("Cu", size=(3, 3, 2), vacuum=6.0)
    host.pbc = True
    path = folder / "Cu111.extxyz"
    write(path, host)
    return store_path(path, owner=owner, project=owner.username, name="Cu(111) slab")
