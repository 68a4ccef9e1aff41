"""Interaction energy through the batched engine (complex, host and isolated guest in one
``evaluate``) against the ASE path one structure after another: the parity contract."""

import math

import numpy as np
import pytest
from ase.build import fcc111
from ase.geometry import get_distances
from ase.io import read

from models_app.batched import Outcome, engine_for
from mofsim_site.executors import ExecutorError, Reporter
from tasks_app.executors import interaction_energy
from tasks_app.params import validate_params
from tests.batched.conftest import main_set

# Database-independent: CI's PostgreSQL pass skips these (the embedded pass runs them; tests/conftest.py).
pytestmark = pytest.mark.db_independent


def slab():
    """A small Cu(111) slab the tiny MACE (H, C, O, Cu; 4 Å cutoff) evaluates in milliseconds."""
    host = fcc111("Cu", size=(3, 3, 2), vacuum=6.0)
    host.pbc = True
    host.rattle(0.02, seed=5)
    return host


def above(host, height, guest="H2O"):
    position = [*host.positions[-1, :2], host.positions[:, 2].max() + height]
    return validate_params("interaction_energy", {"guest": guest, "guest_position": position})


def both(atoms, calc, params, tmp_path):
    out = {}
    for engine in ("ase", "batched"):
        reporter = Reporter(tmp_path / engine)
        out[engine] = (interaction_energy.run(atoms.copy(), calc, {**params, "engine": engine}, reporter), reporter)
    return out["ase"], out["batched"]


ENERGIES = ("interaction_energy_ev", "energy_complex_ev", "energy_host_ev", "energy_guest_ev")


@pytest.mark.parametrize("mode", ["place_guest", "complex"])
def test_batched_equals_one_at_a_time_for_a_mace_model(tiny_mace_calc, tmp_path, mode):
    host = slab()
    params = above(host, 1.8)
    if mode == "complex":  # the guest as it sits in the complex (no G2 geometry): still cell-less alone
        host = interaction_energy.assemble(host, params)[0]
        params = validate_params("interaction_energy", {"mode": "complex"})
    (ase_path, ase_report), (batched, batched_report) = both(host, tiny_mace_calc, params, tmp_path)
    assert abs(ase_path["interaction_energy_ev"]) > 1e-3  # the guest interacts: not a trivial zero
    for key in ENERGIES:
        assert batched[key] == pytest.approx(ase_path[key], abs=1e-8)
    f_ase, f_batched = (np.array(r["forces_complex_ev_per_a"]) for r in (ase_path, batched))
    assert np.abs(f_batched - f_ase).max() < 1e-9
    same = ("guest_indices", "guest_formula", "guest_energy_geometry", "min_host_guest_distance_a")
    assert {k: batched[k] for k in same} == {k: ase_path[k] for k in same}
    n = [len(s) for s in interaction_energy.prepare(host, params).structures]
    record = batched["engine"]
    assert (record["engine"], record["forward_passes"], record["largest_pack"]) == ("batched", 1, 3)
    assert (record["force_evaluations"], record["atom_steps"]) == (3, sum(n))
    assert (ase_path["engine"]["engine"], ase_path["engine"]["force_evaluations"]) == ("ase", 3)
    for mine, theirs in zip(batched_report.points, ase_report.points, strict=True):  # stages 0..3 with energies
        assert mine.keys() == theirs.keys() and mine["stage"] == theirs["stage"]
        assert mine.get("energy", 0.0) == pytest.approx(theirs.get("energy", 0.0), abs=1e-8)
    assert [line for line in batched_report.lines if not line[1].startswith("engine:")] == ase_report.lines
    written = [read(tmp_path / engine / "complex.extxyz") for engine in ("ase", "batched")]
    assert written[1].get_potential_energy() == pytest.approx(written[0].get_potential_energy(), abs=1e-8)


def test_params_without_engine_keep_the_ase_path(tiny_mace_calc, tmp_path):
    params = {k: v for k, v in above(slab(), 3.0).items() if k != "engine"}  # a task stored before the choice
    reporter = Reporter(tmp_path)
    result = interaction_energy.run(slab(), tiny_mace_calc, params, reporter)
    assert result["engine"]["engine"] == "ase" and not any(m.startswith("engine:") for _l, m in reporter.lines)
    assert validate_params("interaction_energy", {"guest": "CO2", "guest_position": [0, 0, 0]})["engine"] == "batched"


def test_the_isolated_guest_has_no_stress_and_leaves_the_others_unchanged(tiny_mace_calc):
    prepared = interaction_energy.prepare(slab(), above(slab(), 1.8))
    engine = engine_for(tiny_mace_calc)
    with_guest = engine.evaluate(prepared.structures)
    without = engine.evaluate(prepared.structures[:2])
    assert with_guest[2].ok and with_guest[2].stress is None and prepared.isolated.cell.rank == 0
    for mine, alone in zip(with_guest[:2], without, strict=True):
        assert mine.energy == pytest.approx(alone.energy, abs=1e-10)
        assert np.abs(mine.forces - alone.forces).max() < 1e-10
        assert np.abs(mine.stress - alone.stress).max() < 1e-12 and np.isfinite(mine.stress).all()


def test_a_structure_the_model_cannot_evaluate_fails_the_task_naming_it(tiny_mace_calc, tmp_path):
    host = slab()
    with pytest.raises(ExecutorError, match="could not evaluate the complex"):  # tiny MACE knows no N
        interaction_energy.run(host, tiny_mace_calc, above(host, 2.0, "N2"), Reporter(tmp_path))


def test_a_non_finite_outcome_fails_with_the_ase_paths_explosion_message():
    with pytest.raises(ExecutorError, match=r"^System exploded \(host\): energy is nan$"):
        interaction_energy.from_outcome(Outcome(energy=math.nan, error="non-finite energy"), "host")
    with pytest.raises(ExecutorError, match=r"^System exploded \(guest\): \|E\| = 2e\+05 eV"):
        interaction_energy.from_outcome(Outcome(energy=2e5, forces=np.zeros((3, 3))), "guest")


def pore_position(host):
    """The point of an 8×8×8 grid farthest from every atom (minimum image): where a guest sits."""
    frac = np.stack(np.meshgrid(*[np.linspace(0, 1, 8, endpoint=False)] * 3, indexing="ij"), -1).reshape(-1, 3)
    points = frac @ host.cell.array
    _, distances = get_distances(points, host.positions, cell=host.cell, pbc=True)
    return points[distances.min(axis=1).argmax()].tolist()


@pytest.mark.slow
def test_sevennet_interaction_energy_batched_at_float32_round_off(sevennet, tmp_path):
    (calf,) = main_set("calf")
    params = validate_params("interaction_energy", {"guest": "CO2", "guest_position": pore_position(calf),
                                                    "guest_rotation_deg": [30, 60, 0]})  # fmt: skip
    (ase_path, _), (batched, _) = both(calf, sevennet, params, tmp_path)
    assert batched["engine"]["forward_passes"] == 1 and ase_path["engine"]["engine"] == "ase"
    for key in ENERGIES[1:]:
        assert abs(batched[key] - ase_path[key]) <= 1e-5 * abs(ase_path[key])  # float32 round-off
    scale = abs(ase_path["energy_complex_ev"])
    assert abs(batched["interaction_energy_ev"] - ase_path["interaction_energy_ev"]) <= 2e-6 * scale
    f_ase, f_batched = (np.array(r["forces_complex_ev_per_a"]) for r in (ase_path, batched))
    assert np.abs(f_batched - f_ase).max() < 1e-4
