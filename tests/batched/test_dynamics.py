"""MD in lockstep: ASE's own dynamics per structure (Langevin NVT, MTK NPT), force calls batched.

Parity is the contract: with the same seeds a structure run in lockstep follows the trajectory it
follows alone through its ASE calculator (``run_md``) — exactly with the float64 tiny MACE, at
float32 round-off with SevenNet-0 on main-set MOFs.
"""

import threading

import numpy as np
import pytest
from ase.build import bulk

from models_app.batched import engine_for
from mofsim_site.executors import ExecutorError, Reporter
from tasks_app.executors import md, stability
from tasks_app.executors.base import check_energy
from tasks_app.executors.md import MDRun, run_md, run_md_together
from tasks_app.params import validate_params
from tests.batched.conftest import cells, main_set

# Database-independent: CI's PostgreSQL pass skips these (the embedded pass runs them; tests/conftest.py).
pytestmark = pytest.mark.db_independent

NVT = {"name": "nvt", "ensemble": "nvt_langevin", "temperature_k": 300.0, "timestep_fs": 1.0,
       "friction_per_fs": 0.01, "init_velocities": True, "velocity_seed": 1, "langevin_seed": 5}  # fmt: skip
NPT = {"name": "npt", "ensemble": "npt_mtk", "temperature_k": 300.0, "timestep_fs": 1.0, "tdamp_fs": 100.0,
       "pdamp_fs": 1000.0, "pressure_bar": 1.0, "init_velocities": True, "velocity_seed": 2}  # fmt: skip


def alone(structures, calc, stage, tmp_path, interval=2):
    """The reference: each structure through its ASE calculator, one after the other."""
    out = []
    for i, start in enumerate(structures):
        atoms = start.copy()
        atoms.calc = calc
        reporter = Reporter(tmp_path / f"alone{i}")
        summary = run_md(atoms, stage, report=reporter, interval=interval, total_steps=stage["steps"])
        out.append((atoms, summary, reporter.points))
    return out


def together(structures, engine, stage, tmp_path, reporters=None, interval=2):
    mine = [a.copy() for a in structures]
    reporters = reporters or [Reporter(tmp_path / f"together{i}") for i in range(len(mine))]
    runs = [MDRun(atoms, stage, reporter, interval=interval, total_steps=stage["steps"])
            for atoms, reporter in zip(mine, reporters, strict=True)]  # fmt: skip
    return mine, run_md_together(engine, runs), reporters


@pytest.mark.parametrize("stage", [{**NVT, "steps": 5}, {**NPT, "steps": 5}], ids=["nvt_langevin", "npt_mtk"])
def test_it_follows_the_trajectory_of_ase_one_at_a_time(tiny_mace_calc, stage, tmp_path):
    structures = cells()
    engine = engine_for(tiny_mace_calc)
    mine, done, reporters = together(structures, engine, stage, tmp_path)
    for (theirs, summary, points), atoms, result, reporter in zip(alone(structures, tiny_mace_calc, stage, tmp_path),
                                                                   mine, done, reporters, strict=True):  # fmt: skip
        assert result.error is None and result.evaluations == 6  # step 0 and one per step
        assert np.abs(atoms.positions - theirs.positions).max() < 1e-10
        assert np.abs(atoms.get_velocities() - theirs.get_velocities()).max() < 1e-10
        assert atoms.get_volume() == pytest.approx(theirs.get_volume(), rel=1e-12)
        assert _same(result.summary, summary)
        assert [p["step"] for p in reporter.points] == [p["step"] for p in points] == [2, 4, 5]
        for ours_point, their_point in zip(reporter.points, points, strict=True):
            assert ours_point["temperature"] == pytest.approx(their_point["temperature"], rel=1e-10)
    assert engine.counters.passes == 6 and engine.counters.largest_pack == 3  # one pass per step for all three
    if stage["ensemble"] == "npt_mtk":
        assert mine[0].get_volume() != structures[0].get_volume()  # the barostat moved the cell


def test_a_run_that_explodes_or_is_stopped_ends_alone(tiny_mace_calc, tmp_path):
    """One run's observer raises (its task cancelled), another's structure cannot be evaluated at
    all (zinc: the tiny MACE knows H, C, O, Cu only); the third goes on and matches its reference."""

    class Cancelled(Reporter):
        def check(self):
            if self.points:
                raise RuntimeError("cancelled")

    structures = cells()
    structures[2] = bulk("Zn")
    stage = {**NVT, "steps": 6}
    reporters = [Cancelled(tmp_path / "c"), Reporter(tmp_path / "ok"), Reporter(tmp_path / "zn")]
    mine, done, _ = together(structures, engine_for(tiny_mace_calc), stage, tmp_path, reporters)
    assert str(done[0].error) == "cancelled" and done[0].summary is None
    assert [p["step"] for p in reporters[0].points] == [2]  # stopped at its next step's check
    assert isinstance(done[2].error, ExecutorError) and "MD failed at nvt step 1" in str(done[2].error)
    assert done[1].error is None
    ((theirs, summary, _points),) = alone(structures[1:2], tiny_mace_calc, stage, tmp_path)
    assert np.abs(mine[1].positions - theirs.positions).max() < 1e-10
    assert _same(done[1].summary, summary)


def test_a_stop_of_the_whole_pass_raises_and_leaves_no_thread_behind(tiny_mace_calc, tmp_path):
    """``check()`` raising (every task of the pass gone) ends the run mid-step: the error reaches
    the caller and every stepping thread, some waiting for forces, ends."""
    calls = []

    def check():
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("every member is gone")

    runs = [MDRun(atoms, {**NPT, "steps": 5}, Reporter(tmp_path / str(i))) for i, atoms in enumerate(cells())]
    with pytest.raises(RuntimeError, match="every member is gone"):
        run_md_together(engine_for(tiny_mace_calc), runs, check=check)
    for thread in [t for t in threading.enumerate() if t.name.startswith("md-lockstep-")]:
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert all(run.atoms.calc.stepper is None for run in runs)


def test_the_explosion_guard_fails_the_run_with_the_ase_paths_message(tiny_mace_calc, tmp_path, monkeypatch):
    """The guard (MOFSimBench's |E| > 1e5 eV or non-finite) rejects the 8-atom cell only."""
    structures = cells()
    energies = []
    for atoms in structures:
        atoms.calc = tiny_mace_calc
        energies.append(atoms.get_potential_energy())
        atoms.calc = None

    def guard(energy, where=""):
        if abs(energy - energies[2]) < abs(energy - energies[0]):
            check_energy(float("nan"), where)

    monkeypatch.setattr(md, "check_energy", guard)
    stage = {**NVT, "steps": 3}
    with pytest.raises(ExecutorError) as reference:
        alone(structures[2:], tiny_mace_calc, stage, tmp_path)
    _mine, done, _ = together(structures, engine_for(tiny_mace_calc), stage, tmp_path)
    assert str(done[2].error) == str(reference.value) == "System exploded at nvt step 0: energy is nan"
    assert done[0].error is None and done[1].error is None


def test_a_stability_task_gives_the_same_result_batched_and_through_ase(tiny_mace_calc, tmp_path):
    """The whole executor: fixed-cell opt, NVT and NPT stages in lockstep (one structure) vs the
    ASE path; the result also records the batched engine and its force evaluations."""
    params = validate_params("stability", {"opt_steps": 4, "nvt_steps": 6, "npt_steps": 6, "trajectory_interval": 3,
                                           "langevin_seed": 11, "coordination": False}, "quick")  # fmt: skip
    atoms = cells()[2]
    (tmp_path / "b").mkdir()
    (tmp_path / "a").mkdir()
    batched = stability.run(atoms, tiny_mace_calc, params, Reporter(tmp_path / "b"))
    reference = stability.run(atoms, tiny_mace_calc, {**params, "engine": "ase"}, Reporter(tmp_path / "a"))
    engine_record = batched.pop("engine")
    assert "engine" not in reference
    assert _same(batched, reference)
    assert engine_record["engine"] == "batched" and engine_record["device"] == "cpu"
    assert engine_record["force_evaluations"] == (batched["stages"][0]["steps"] + 1) + 6 + 6  # opt, nvt, npt
    assert (tmp_path / "b" / "final.cif").exists() and (tmp_path / "b" / "trajectory.traj").exists()


def _same(ours, theirs, path="result") -> bool:
    """Nested results equal: numbers to 1e-9 relative, everything else exactly."""
    if isinstance(ours, dict):
        assert ours.keys() == theirs.keys(), path
        return all(_same(ours[k], theirs[k], f"{path}.{k}") for k in ours)
    if isinstance(ours, list):
        assert len(ours) == len(theirs), path
        return all(_same(a, b, f"{path}[{i}]") for i, (a, b) in enumerate(zip(ours, theirs, strict=True)))
    if isinstance(ours, float):
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12), path
        return True
    assert ours == theirs, path
    return True


@pytest.mark.slow  # ~10 s on an idle 2-core machine; minutes when it is loaded
@pytest.mark.parametrize("stage", [{**NVT, "steps": 3}, {**NPT, "steps": 3}], ids=["nvt_langevin", "npt_mtk"])
def test_sevennet_lockstep_md_agrees_with_its_calculator_at_float32_round_off(sevennet, stage, tmp_path):
    structures = main_set("calf", "NUVCUD_full")  # 44 and 45 atoms
    mine, done, reporters = together(structures, engine_for(sevennet), stage, tmp_path, interval=1)
    for (theirs, summary, points), atoms, result, reporter in zip(alone(structures, sevennet, stage, tmp_path, 1),
                                                                   mine, done, reporters, strict=True):  # fmt: skip
        assert result.error is None
        assert np.abs(atoms.positions - theirs.positions).max() < 1e-6  # Å, after 3 fs
        assert atoms.get_volume() == pytest.approx(theirs.get_volume(), rel=1e-7)
        assert result.summary["final_energy_ev"] == pytest.approx(summary["final_energy_ev"], rel=2e-6)
        for ours_point, their_point in zip(reporter.points, points, strict=True):
            assert ours_point["temperature"] == pytest.approx(their_point["temperature"], rel=1e-5)
            assert ours_point["energy"] == pytest.approx(their_point["energy"], rel=2e-6)
