"""One molecular-dynamics stage, as in MOFSimBench ``common/md.py`` (shared/MOFSIMBENCH.md §1).

Optional Maxwell–Boltzmann velocities from ``numpy.random.default_rng(seed)`` with total linear
and angular momentum removed, then ASE ``Langevin`` (NVT) or ``IsotropicMTKNPT`` (NpT,
Martyna–Tobias–Klein with Nosé–Hoover chains; isotropic, cell shape fixed) stepped for
``steps``. Every step's energy is checked (explosion → ``ExecutorError``); every
``interval`` steps a frame goes to the trajectory with ``info["stage"]``/``info["step"]`` and a
metric point (temperature, pressure, volume, energies) goes to ``report.progress`` so the task
page can plot the run. As in the benchmark, Langevin gets its own RNG only if ``langevin_seed``
is given (the benchmark leaves it unseeded, so MD is not bit-reproducible).
"""

import numpy as np
from ase import units
from ase.md.langevin import Langevin
from ase.md.nose_hoover_chain import IsotropicMTKNPT
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary, ZeroRotation

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


def run_md(atoms, stage: dict, *, report=None, trajectory=None, interval=100, step_offset=0, total_steps=None) -> dict:
    """Run one MD stage on ``atoms`` (calculator attached; positions/velocities/cell carried on).

    ``stage`` holds ``name``, ``ensemble``, ``steps``, ``temperature_k``, ``timestep_fs``,
    ``friction_per_fs``, ``tdamp_fs``, ``pdamp_fs``, ``pressure_bar``, and optionally
    ``init_velocities`` (bool) with ``velocity_seed``. Returns mean temperature/volume and the
    final energy of the stage.
    """
    if stage.get("init_velocities"):
        draw_velocities(atoms, stage["temperature_k"], stage.get("velocity_seed", 0))
    dyn = make_dynamics(
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
    name = stage["name"]
    temperatures, volumes = [], []

    def observe():
        step = dyn.nsteps
        energy = float(atoms.get_potential_energy())
        check_energy(energy, f" at {name} step {step}")
        if step == 0:
            return  # the stage's starting point is the previous stage's last frame
        temperatures.append(atoms.get_temperature())
        volumes.append(atoms.get_volume())
        if step % interval and step != stage["steps"]:
            return
        atoms.info.update({"stage": name, "step": step})
        if trajectory is not None:
            trajectory.write(atoms)
        if report is not None:
            report.progress(
                step_offset + step,
                total_steps,
                stage=name,
                energy=energy,
                kinetic_energy=float(atoms.get_kinetic_energy()),
                temperature=float(atoms.get_temperature()),
                pressure_gpa=instantaneous_pressure_gpa(atoms),
                volume=float(atoms.get_volume()),
            )

    dyn.attach(observe, interval=1)
    dyn.run(stage["steps"])
    return {
        "name": name,
        "ensemble": stage["ensemble"],
        "steps": int(stage["steps"]),
        "temperature_target_k": stage["temperature_k"],
        "mean_temperature_k": float(np.mean(temperatures)) if temperatures else None,
        "mean_volume_a3": float(np.mean(volumes)) if volumes else None,
        "final_volume_a3": float(atoms.get_volume()),
        "final_energy_ev": float(atoms.get_potential_energy()),
    }
