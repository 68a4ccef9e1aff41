"""Real completed tasks of every MOFSimBench type, for the result-view tests (pages and browser),
and real completed benchmark runs over the fcc metals EMT knows, for the report panels.

Each task goes through the submit path and the inline runner (the same claim, state machine and
executor a worker uses) with EMT on a small Cu cell and quick parameters. DFT reference values are
given explicitly, so the DFT comparisons and verdicts appear; a heat-capacity pre-relaxation cut
to 2 steps does not converge, so its warning appears.
"""

from ase.build import bulk, fcc111
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


# The fcc metals ASE's EMT describes, with reference values given explicitly as a structure's
# DFT reference would be: room-temperature bulk moduli (GPa) and specific heats (J/(g·K)) from
# experiment, lattice constants (Å) to start from. EMT lands near them, not on them: the panels
# show the difference.
METALS = {
    "Al": (4.05, 76.0, 0.897),
    "Cu": (3.61, 140.0, 0.385),
    "Ni": (3.52, 180.0, 0.444),
    "Pd": (3.89, 180.0, 0.246),
    "Ag": (4.09, 100.0, 0.235),
    "Pt": (3.92, 230.0, 0.133),
    "Au": (4.08, 180.0, 0.129),
}
RUN_PARAMS = {
    "bulk_modulus": {"npoints": 7, "relax_steps": 40, "point_steps": 10},
    "heat_capacity": {"relax_steps": 30, "mesh_length": 10.0},
}


def metal_set(owner, folder, metals, slug="fcc-metals", strains=(1.01,)):
    """A structure set of conventional fcc cells (4 atoms) with B0 and Cv(300 K) references;
    several ``strains`` (lattice constant factors) give several structures per metal."""
    from structures_app.models import StructureSet, StructureSetMember

    structure_set = StructureSet.objects.create(slug=slug, owner=owner, description="fcc metals for EMT")
    index = 0
    for strain in strains:
        for symbol in metals:
            a, b0, cv = METALS[symbol]
            name = f"{symbol} fcc" if len(strains) == 1 else f"{symbol} fcc a×{strain:g}"
            path = folder / f"{slug}-{symbol}-{strain:g}.cif"
            write(path, bulk(symbol, "fcc", a=a * strain, cubic=True))
            reference = {"dft_b0_gpa": b0, "dft_cv300_j_per_g_k": cv}
            structure = store_path(path, owner=owner, project=owner.username, name=name, reference=reference)
            StructureSetMember.objects.create(structure_set=structure_set, structure=structure, index=index)
            index += 1
    return structure_set


def completed_run(owner, structure_set, model, kind):
    """A benchmark run whose every task went through the inline runner and completed."""
    from tasks_app.benchmarks.services import create_benchmark_run

    run = create_benchmark_run(owner=owner, kind=kind, model=model, structure_set=structure_set, preset="quick",
                               params=RUN_PARAMS[kind])  # fmt: skip
    for task in run.tasks.all():
        run_task_inline(task)
    assert set(run.tasks.values_list("status", flat=True)) == {"COMPLETED"}, list(run.tasks.values("status", "error"))
    return run
