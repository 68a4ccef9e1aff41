"""Small calculators and cells for executor tests (EMT: instant, deterministic)."""

from ase.build import bulk
from ase.calculators.emt import EMT


def cu(a=3.6, repeat=1):
    atoms = bulk("Cu", "fcc", a=a, cubic=True)
    return atoms.repeat(repeat) if repeat != 1 else atoms


class ExplodingEMT(EMT):
    """EMT that returns a huge (or NaN) energy from the ``after``-th calculation on."""

    def __init__(self, after=0, value=1e7, **kwargs):
        super().__init__(**kwargs)
        self.after, self.value, self.calls = after, value, 0

    def calculate(self, *args, **kwargs):
        super().calculate(*args, **kwargs)
        self.calls += 1
        if self.calls > self.after:
            self.results["energy"] = self.value
            self.results["free_energy"] = self.value
