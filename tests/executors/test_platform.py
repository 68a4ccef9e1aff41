"""Executors through the platform: API validation (400 naming the field), DFT references reaching
the executor, D3 recorded and applied, explosions failing the task."""

import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io import read, write
from django.conf import settings
from rest_framework.exceptions import ValidationError

from tasks_app.params import run_params, validate_params
from tasks_app.services import enqueue_task
from tests.executors.helpers import ExplodingEMT

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "kind, params, field",
    [
        ("stability", {"timestep_fs": -1}, "timestep_fs"),
        ("stability", {"variant": "hot"}, "variant"),
        ("stability", {"nvt_step": 10}, "nvt_step"),
        ("bulk_modulus", {"npoints": 3}, "npoints"),
        ("heat_capacity", {"supercell": [2, 2]}, "supercell"),
        ("interaction_energy", {"guest": "CO2"}, "guest_position"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_the_field(api, cu_structure, emt, kind, params, field):
    response = api.post(f"/api/v1/tasks/{kind}", {"structure": cu_structure.pk, "model": "emt", "params": params},
                        format="json")  # fmt: skip
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]["params"]


def test_a_reference_file_outside_the_data_dirs_is_refused(api, cu_structure, emt):
    for path in ("/etc/passwd", "../../../etc/passwd", "mofsimbench/../../../etc/hostname"):
        body = {"structure": cu_structure.pk, "model": "emt", "params": {"reference": {"dft_structure": path}}}
        response = api.post("/api/v1/tasks/optimization", body, format="json")
        assert response.status_code == 400, path
        assert "dft_structure" in response.json()["details"]["params"]["reference"]


def test_the_task_types_list_the_new_kinds_with_quick_presets(api):
    types = {t["kind"]: t for t in api.get("/api/v1/tasks/types/").json()}
    assert {"stability", "bulk_modulus", "heat_capacity", "interaction_energy"} <= set(types)
    assert types["stability"]["defaults"]["protocol"]["pdamp_fs"] == 1000.0
    assert types["stability"]["defaults"]["quick"]["npt_steps"] == 50


def test_builtin_references_resolve_inside_the_data_dir():
    ref = {"dft_structure": "mofsimbench/mof_benchmark/analysis/dft_data/set_1/opt_MOF-5_primitive.cif",
           "dft_volume": 4440.261, "dft_b0_gpa": 16.06, "unrelated": 1}  # fmt: skip
    params = run_params("optimization", validate_params("optimization", {}), ref)
    assert params["reference"]["dft_structure"] == str(settings.DATA_DIR.resolve() / ref["dft_structure"])
    assert "unrelated" not in params["reference"]
    assert "reference" not in run_params("single_point", validate_params("single_point", {}), ref)
    own = validate_params("optimization", {"reference": {"dft_volume": 10.0}})
    assert run_params("optimization", own, ref)["reference"] == {"dft_volume": 10.0}  # the user's wins
    with pytest.raises(ValidationError):
        run_params("optimization", own | {"reference": None}, {"dft_structure": "../../etc/passwd"})


def test_the_structure_reference_reaches_the_optimization(owner, cu_structure, emt, run_inline):
    dft_path = settings.WORKDIR / "tmp" / "dft-Cu.cif"
    dft_path.parent.mkdir(parents=True, exist_ok=True)
    write(dft_path, bulk("Cu", "fcc", a=3.5903, cubic=True))  # EMT's equilibrium lattice constant
    cu_structure.reference = {"dft_structure": str(dft_path)}
    cu_structure.save()
    task = enqueue_task(owner=owner, kind="optimization", structure=cu_structure, model=emt,
                        params=validate_params("optimization", {"fmax": 0.005}))  # fmt: skip
    task = run_inline(task)
    assert task.status == "COMPLETED", task.error
    dft = task.result["dft"]
    assert dft["reference"]["dft_structure"] == str(dft_path.resolve())
    assert dft["rmsd_final_to_dft_a"] < 0.01 < dft["rmsd_input_to_dft_a"]
    assert abs(dft["volume_vs_dft_pct"]) < 0.5 and dft["within_10pct_of_dft_volume"] is True
    assert dft["input_volume_vs_dft_pct"] > 5  # input cell was 3.70 Å
    assert task.result["rmsd_to_input_a"] > 0 and len(task.result["cell_length_change_a"]) == 3


def test_d3_adds_exactly_the_torch_dftd_energy_and_is_recorded(owner, cu_structure, emt, run_inline):
    from torch_dftd.torch_dftd3_calculator import TorchDFTD3Calculator

    from models_app.loaders import D3_CUTOFF_A

    task = enqueue_task(owner=owner, kind="single_point", structure=cu_structure, model=emt,
                        params=validate_params("single_point", {"d3": True}))  # fmt: skip
    task = run_inline(task)
    assert task.status == "COMPLETED", task.error
    atoms = read(cu_structure.absolute_path)
    atoms.calc = EMT()
    e_emt = atoms.get_potential_energy()
    atoms.calc = TorchDFTD3Calculator(device="cpu", xc="pbe", damping="bj", cutoff=D3_CUTOFF_A)
    e_d3 = atoms.get_potential_energy()
    assert e_d3 < -0.1  # dispersion is attractive and not negligible for 4 Cu atoms
    assert task.result["energy_ev"] == pytest.approx(e_emt + e_d3, abs=1e-5)
    prov = task.result["provenance"]
    assert prov["d3"] is True and prov["d3_settings"]["damping"] == "bj" and prov["d3_settings"]["xc"] == "pbe"


def test_an_exploding_system_fails_the_task_with_that_reason(owner, cu_structure, emt, run_inline, monkeypatch):
    from models_app import cache

    monkeypatch.setattr(cache, "get_calculator", lambda spec, device, d3=False: ExplodingEMT(after=5))
    task = enqueue_task(owner=owner, kind="stability", structure=cu_structure, model=emt,
                        params=validate_params("stability", {"opt_steps": 0}, preset="quick"))  # fmt: skip
    task = run_inline(task)
    assert task.status == "FAILED"
    assert task.error.startswith("System exploded at nvt step")


def test_rmsd_to_a_reference_with_another_atom_order_matches_atoms_first():
    """Zn-MOF-74's DFT file lists atoms in another order than the input: pair them per element."""
    from tasks_app.executors.metrics import match_atom_order, position_rmsd

    root = settings.DATA_DIR / "mofsimbench" / "mof_benchmark"
    ours = read(root / "experiments/structures/main_set/Zn-MOF-74.cif")
    dft = read(root / "analysis/dft_data/set_1/opt_Zn-MOF-74_primitive.cif")
    assert ours.get_chemical_symbols() != dft.get_chemical_symbols()
    assert position_rmsd(dft, ours) > 2.0  # index-by-index pairs unrelated atoms
    matched, how = match_atom_order(dft, ours)
    assert how == "assignment" and matched.get_chemical_symbols() == ours.get_chemical_symbols()
    assert position_rmsd(matched, ours) < 0.2
    shuffled = ours[list(reversed(range(len(ours))))]
    assert position_rmsd(match_atom_order(shuffled, ours)[0], ours) < 1e-6
    assert match_atom_order(ours, ours)[1] == "index"
