"""ASE's EMT: analytic, instant, for tests and demos of mechanics (float64 only)."""


def build(spec: dict, device: str, dtype: str):
    from ase.calculators.emt import EMT

    return EMT()
