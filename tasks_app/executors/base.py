"""Helpers shared by the MOFSimBench executors (the contract itself is ``mofsim_site.executors``)."""

import math

from mofsim_site.executors import ExecutorError

EXPLOSION_ENERGY_EV = 1e5  # MOFSimBench's guard: |E| above this means the system exploded


def check_energy(energy: float, where: str = "") -> None:
    """Fail loudly on NaN/inf or a huge energy: the MOFSimBench explosion guard."""
    if not math.isfinite(energy):
        raise ExecutorError(f"System exploded{where}: energy is {energy}")
    if abs(energy) > EXPLOSION_ENERGY_EV:
        raise ExecutorError(f"System exploded{where}: |E| = {abs(energy):.3g} eV > {EXPLOSION_ENERGY_EV:.0g} eV")
