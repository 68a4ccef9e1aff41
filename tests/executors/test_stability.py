"""MD stages (Langevin NVT, MTK NPT) and the staged stability protocol on EMT copper."""

import numpy as np
import pytest
from ase.calculators.emt import EMT
from ase.io import read

from mofsim_site.executors import Reporter
from tasks_app.executors import stability
from tasks_app.executors.md import draw_velocities, run_md
from tasks_app.params import validate_params
from tests.executors.helpers import cu

# Database-independent: CI's PostgreSQL pass skips these (the embedded pass runs them; tests/conftest.py).
pytestmark = pytest.mark.db_independent

MD = {"timestep_fs": 2.0, "tdamp_fs": 100.0, "pdamp_fs": 1000.0, "pressure_bar": 1.0}


def test_velocities_have_no_net_momentum_and_are_seeded():
    a, b = cu(repeat=3), cu(repeat=3)
    draw_velocities(a, 300, seed=0)
    draw_velocities(b, 300, seed=0)
    assert np.allclose(a.get_momenta(), b.get_momenta())
    assert np.allclose(a.get_momenta().sum(axis=0), 0, atol=1e-10)
    assert np.allclose(a.get_angular_momentum(), 0, atol=1e-8)


def test_langevin_nvt_holds_the_target_temperature(tmp_path):
    atoms = cu(a=3.59, repeat=2)  # 32 atoms at EMT's lattice constant
    atoms.calc = EMT()
    reporter = Reporter(tmp_path)
    stage = {"name": "nvt", "ensemble": "nvt_langevin", "steps": 2500, "temperature_k": 500.0,
             "friction_per_fs": 0.01, "init_velocities": True, "langevin_seed": 1, **MD}  # fmt: skip
    run_md(atoms, stage, report=reporter, interval=5, total_steps=2500)
    temps = np.array([p["temperature"] for p in reporter.points if p["step"] > 500])
    # 32 atoms: instantaneous T fluctuates by ~T·sqrt(2/(3N)) ≈ 14 %; 400 samples over 8 ps
    # (velocity memory 1/friction = 0.1 ps) pin the mean to a few percent.
    assert temps.mean() == pytest.approx(500.0, rel=0.07)
    assert temps.std() / 500.0 == pytest.approx(np.sqrt(2 / (3 * 32)), rel=0.35)


@pytest.mark.slow  # ASE's MTK integrator costs ~10 ms/step in Python even with EMT
def test_mtk_npt_keeps_the_volume_bounded(tmp_path):
    atoms = cu(a=3.59, repeat=2)
    atoms.calc = EMT()
    v0 = atoms.get_volume()
    reporter = Reporter(tmp_path)
    stage = {"name": "npt", "ensemble": "npt_mtk", "steps": 1500, "temperature_k": 300.0,
             "init_velocities": True, **MD}  # fmt: skip
    summary = run_md(atoms, stage, report=reporter, interval=10, total_steps=1500)
    volumes = np.array([p["volume"] for p in reporter.points])
    assert np.all(np.abs(volumes / v0 - 1) < 0.05)
    assert volumes.std() > 0  # the barostat does act on the volume
    assert summary["mean_temperature_k"] == pytest.approx(300, rel=0.25)
    assert all(p["pressure_gpa"] is not None for p in reporter.points)


def test_stage_plans_follow_the_protocol_variants():
    def names(variant):
        return [s["name"] for s in stability.stage_plan(validate_params("stability", {"variant": variant}))]

    assert names("ambient") == ["opt", "nvt", "npt"]
    assert names("temperature_ramp") == ["opt", "nvt", *(f"npt_{t}K" for t in range(300, 1001, 100))]
    assert names("copper") == ["opt", "nvt", "npt_300K", "npt_400K", "npt_300K_2", "final_opt"]
    ambient = stability.stage_plan(validate_params("stability", {}))
    assert [s["steps"] for s in ambient] == [1000, 1000, 50_000]
    assert ambient[1]["friction_per_fs"] == 0.01 and ambient[2]["pdamp_fs"] == 1000.0
    ramp = stability.stage_plan(validate_params("stability", {"variant": "temperature_ramp"}))
    assert ramp[1]["friction_per_fs"] == 0.002 and all(s["init_velocities"] for s in ramp[2:])
    copper = stability.stage_plan(validate_params("stability", {"variant": "copper"}))
    assert [s["steps"] for s in copper[2:5]] == [10_000] * 3 and not any(s["init_velocities"] for s in copper[2:5])


def test_zero_npt_steps_means_zero_not_the_protocol_default():
    plan = stability.stage_plan(validate_params("stability", {"npt_steps": 0, "nvt_steps": 10}))
    assert [s["name"] for s in plan] == ["opt", "nvt"]
    assert sum(s["steps"] for s in plan) == 1000 + 10


def test_the_quick_copper_variant_runs_end_to_end(tmp_path):
    params = validate_params("stability", {"variant": "copper", "npt_steps": 30}, preset="quick")
    atoms = cu(a=3.62, repeat=2)
    atoms.rattle(0.02, seed=3)
    reporter = Reporter(tmp_path)
    result = stability.run(atoms, EMT(), params, reporter)

    frames = read(tmp_path / "trajectory.traj", ":")
    assert all("stage" in f.info and "step" in f.info for f in frames)
    assert [s["name"] for s in result["stages"]] == ["opt", "nvt", "npt_300K", "npt_400K", "npt_300K_2", "final_opt"]
    assert {f.info["stage"] for f in frames} >= {"opt", "nvt", "npt_300K", "npt_400K", "npt_300K_2"}
    assert 0.9 < result["volume_ratio_final"] < 1.1
    assert result["rmsd_final_to_initial_a"] > 0
    cn = result["metal_coordination"]
    assert cn["initial"]["Cu"] == pytest.approx(12, abs=0.5) and set(cn["change"]) == {"Cu"}
    series = [p for p in reporter.points if p.get("stage") == "npt_400K"]
    assert series and all({"temperature", "pressure_gpa", "volume", "energy"} <= set(p) for p in series)
    assert result["stable"] is True and result["instability_reasons"] == []


def test_the_verdict_flags_volume_and_coordination_changes():
    base = {"volume_change_pct": -12.5, "metal_coordination": {"change": {"Zn": -0.4, "Cu": -1.6}}}
    verdict = stability.stability_verdict(base, {"max_volume_change_pct": 10.0, "max_coordination_change": None})
    assert verdict["stable"] is False and verdict["instability_reasons"] == ["|ΔV| = 12.5 % > 10 %"]
    verdict = stability.stability_verdict(
        {**base, "volume_change_pct": 3.0}, {"max_volume_change_pct": 10.0, "max_coordination_change": 1.0}
    )
    assert verdict["stable"] is False and verdict["instability_reasons"] == ["ΔCN(Cu) = -1.60"]
    assert "|ΔCN| ≤ 1" in verdict["stability_criterion"]
    ok = stability.stability_verdict({**base, "volume_change_pct": 3.0}, {"max_volume_change_pct": 10.0})
    assert ok["stable"] is True
