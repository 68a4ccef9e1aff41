"""One molecular-dynamics stage, as in MOFSimBench ``common/md.py`` (shared/MOFSIMBENCH.md §1).

Optional Maxwell–Boltzmann velocities from ``numpy.random.default_rng(seed)`` with total linear
and angular momentum removed, then ASE ``Langevin`` (NVT) or ``IsotropicMTKNPT`` (NpT,
Martyna–Tobias–Klein with Nosé–Hoover chains; isotropic, cell shape fixed) stepped for
``steps``. Every step's energy is checked (explosion → ``ExecutorError``); every
``interval`` steps a frame goes to the trajectory with ``info["stage"]``/``info["step"]`` and a
metric point (temperature, pressure, volume, energies) goes to ``report.progress`` so the task
page can plot the run. As in the benchmark, Langevin gets its own RNG only if ``langevin_seed``
is given (the benchmark leaves it unseeded, so MD is not bit-reproducible).

Two paths share the dynamics set-up (``start_stage``) and what is recorded per step
(``StageObserver``): ``run_md`` steps one structure through its ASE calculator (the reference
path); ``run_md_together`` steps several structures in lockstep with their force calls in one
batched pass per step (``models_app.batched.dynamics``) — same integrator, same seeds, so the
same trajectory up to float round-off.
"""

from dataclasses import dataclass

import numpy as np
from ase import units
from ase.md.langevin import Langevin
from ase.md.nose_hoover_chain import IsotropicMTKNPT
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary, ZeroRotation

from models_app.batched.dynamics import PROPERTIES, EvaluationFailed, attach_lockstep, run_many
from mofsim_site.executors import ExecutorError
from tasks_app.executors.base import check_energy

EV_PER_A3_TO_GPA = 160.21766208
ENSEMBLES = ("nvt_langevin", "npt_mtk")


def draw_velocities(atoms, temperature_k: float, seed: int = 0) -> None:
    """MB velocities at ``temperature_k``, then zero COM momentum and angular momentum."""
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature_k, rng=np.random.default_rng(seed))
    Stationary(atoms)
    ZeroRotation(atoms)


def instantaneous_pressure_gpa(atoms) -> float | None:
    if not atoms.pbc.all():
        return None
    stress = atoms.get_stress(voigt=True, include_ideal_gas=True)
    return float(-stress[:3].mean() * EV_PER_A3_TO_GPA)


def make_dynamics(atoms, ensemble: str, *, temperature_k, timestep_fs, friction_per_fs, tdamp_fs, pdamp_fs,
                  pressure_bar, tchain=3, pchain=3, langevin_seed=None):  # fmt: skip
    timestep = timestep_fs * units.fs
    if ensemble == "nvt_langevin":
        rng = np.random.default_rng(langevin_seed) if langevin_seed is not None else None
        return Langevin(
            atoms, timestep, temperature_K=temperature_k, friction=friction_per_fs / units.fs, fixcm=True, rng=rng
        )
    if ensemble == "npt_mtk":
        return IsotropicMTKNPT(
            atoms,
            timestep,
            temperature_K=temperature_k,
            pressure_au=pressure_bar * units.bar,
            tdamp=tdamp_fs * units.fs,
            pdamp=pdamp_fs * units.fs,
            tchain=tchain,
            pchain=pchain,
        )
    raise ValueError(f"unknown ensemble {ensemble!r}; choose from {ENSEMBLES}")


def start_stage(atoms, stage: dict):
    """The stage's ASE dynamics object on ``atoms``, velocities drawn first if the stage asks."""
    if stage.get("init_velocities"):
        draw_velocities(atoms, stage["temperature_k"], stage.get("velocity_seed", 0))
    return make_dynamics(
        atoms,
        stage["ensemble"],
        temperature_k=stage["temperature_k"],
        timestep_fs=stage["timestep_fs"],
        friction_per_fs=stage.get("friction_per_fs", 0.01),
        tdamp_fs=stage.get("tdamp_fs", 100.0),
        pdamp_fs=stage.get("pdamp_fs", 1000.0),
        pressure_bar=stage.get("pressure_bar", 1.0),
        langevin_seed=stage.get("langevin_seed"),
    )


class StageObserver:
    """What one stage records after every force evaluation, on either path: the explosion guard,
    temperature and volume series, and every ``interval`` steps a trajectory frame and a metric point."""

    def __init__(self, atoms, stage: dict, *, report=None, trajectory=None, interval=100, step_offset=0,
                 total_steps=None):  # fmt: skip
        self.atoms, self.stage, self.report, self.trajectory = atoms, stage, report, trajectory
        self.interval, self.step_offset, self.total_steps = interval, step_offset, total_steps
        self.temperatures: list[float] = []
        self.volumes: list[float] = []

    def __call__(self, step: int) -> None:
        atoms, name = self.atoms, self.stage["name"]
        energy = float(atoms.get_potential_energy())
        check_energy(energy, f" at {name} step {step}")
        if step == 0:
            return  # the stage's starting point is the previous stage's last frame
        self.temperatures.append(atoms.get_temperature())
        self.volumes.append(atoms.get_volume())
        if step % self.interval and step != self.stage["steps"]:
            return
        atoms.info.update({"stage": name, "step": step})
        if self.trajectory is not None:
            self.trajectory.write(atoms)
        if self.report is not None:
            self.report.progress(
                self.step_offset + step,
                self.total_steps,
                stage=name,
                energy=energy,
                kinetic_energy=float(atoms.get_kinetic_energy()),
                temperature=float(atoms.get_temperature()),
                pressure_gpa=instantaneous_pressure_gpa(atoms),
                volume=float(atoms.get_volume()),
            )

    def summary(self) -> dict:
        """Mean temperature/volume and the final energy of the stage."""
        stage, atoms = self.stage, self.atoms
        return {
            "name": stage["name"],
            "ensemble": stage["ensemble"],
            "steps": int(stage["steps"]),
            "temperature_target_k": stage["temperature_k"],
            "mean_temperature_k": float(np.mean(self.temperatures)) if self.temperatures else None,
            "mean_volume_a3": float(np.mean(self.volumes)) if self.volumes else None,
            "final_volume_a3": float(atoms.get_volume()),
            "final_energy_ev": float(atoms.get_potential_energy()),
        }


def run_md(atoms, stage: dict, *, report=None, trajectory=None, interval=100, step_offset=0, total_steps=None) -> dict:
    """Run one MD stage on ``atoms`` through its ASE calculator (the reference path; positions,
    velocities and cell carried on).

    ``stage`` holds ``name``, ``ensemble``, ``steps``, ``temperature_k``, ``timestep_fs``,
    ``friction_per_fs``, ``tdamp_fs``, ``pdamp_fs``, ``pressure_bar``, and optionally
    ``init_velocities`` (bool) with ``velocity_seed`` and ``langevin_seed``. Returns mean
    temperature/volume and the final energy of the stage.
    """
    dyn = start_stage(atoms, stage)
    observer = StageObserver(atoms, stage, report=report, trajectory=trajectory, interval=interval,
                             step_offset=step_offset, total_steps=total_steps)  # fmt: skip
    dyn.attach(lambda: observer(dyn.nsteps), interval=1)
    dyn.run(stage["steps"])
    return observer.summary()


@dataclass
class MDRun:
    """One structure's share of ``run_md_together``: its atoms, stage and where its records go."""

    atoms: object
    stage: dict
    report: object
    trajectory: object = None
    interval: int = 100
    step_offset: int = 0
    total_steps: int | None = None


@dataclass
class MDDone:
    """What a run of ``run_md_together`` ended with: its stage summary, or why it stopped."""

    summary: dict | None
    error: BaseException | None
    evaluations: int  # force evaluations of this structure in the batched passes


def run_md_together(engine, runs: list[MDRun], *, check=None) -> list[MDDone]:
    """One MD stage (same number of steps) on several structures in lockstep, forces batched
    (``models_app.batched.dynamics``): each its own ASE dynamics object, velocities, RNG,
    trajectory, progress and log, so each follows the trajectory ``run_md`` gives it alone.

    A run that explodes, cannot be evaluated, or whose report stops it (cancelled, lease lost, time
    limit: checked every step, as the ASE path's calculator hook does) ends alone with that error.
    """
    steps = runs[0].stage["steps"]
    assert all(run.stage["steps"] == steps for run in runs), "lockstep runs share their step count"
    for run in runs:
        attach_lockstep(engine, run.atoms)
    fresh = [run.atoms.calc.calculation_required(run.atoms, PROPERTIES) for run in runs]
    dynamics = [start_stage(run.atoms, run.stage) for run in runs]
    observers = [StageObserver(run.atoms, run.stage, report=run.report, trajectory=run.trajectory,
                               interval=run.interval, step_offset=run.step_offset, total_steps=run.total_steps)
                 for run in runs]  # fmt: skip

    def observe(i: int) -> None:
        runs[i].report.check()
        observers[i](dynamics[i].nsteps)

    errors = run_many(engine, dynamics, steps, observe=observe, check=check)
    done = []
    for run, dyn, observer, error, first in zip(runs, dynamics, observers, errors, fresh, strict=True):
        if isinstance(error, EvaluationFailed):
            error = ExecutorError(f"MD failed at {run.stage['name']} step {dyn.nsteps + 1}: {error}")
        done.append(MDDone(observer.summary() if error is None else None, error, dyn.nsteps + int(first)))
    return done
