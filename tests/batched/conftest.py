"""Models and structures for the batched-engine parity tests (loaded once per session: SevenNet-0
takes 10–30 s to load on a busy 2-core machine)."""

import pytest
from ase.build import bulk
from ase.io import read
from django.conf import settings

MAIN_SET = settings.DATA_DIR / "mofsimbench" / "mof_benchmark" / "experiments" / "structures" / "main_set"


def main_set(*names):
    return [read(MAIN_SET / f"{name}.cif") for name in names]


def cells():
    """Three small rattled Cu cells of two sizes (4, 4 and 8 atoms) for the tiny-MACE lockstep tests."""
    out = [bulk("Cu", "fcc", a=a, cubic=True) for a in (3.55, 3.7)]
    out.append(bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 1, 1)))
    for atoms in out:
        atoms.rattle(0.05, seed=3)
    return out


@pytest.fixture(scope="session")
def sevennet():
    from models_app.loaders import build_calculator

    return build_calculator({"family": "sevennet", "model_name": "7net-0"}, "cpu")


@pytest.fixture
def tiny_mace_calc():
    """A float64 tiny MACE. MACECalculator sets torch's process-wide default dtype to float64, which
    breaks the (float32) SevenNet-0 fixture in a later test, so the default is put back afterwards."""
    import torch
    from mace.calculators import MACECalculator

    from tests.mace_model import tiny_mace

    dtype = torch.get_default_dtype()
    yield MACECalculator(models=tiny_mace(), device="cpu", default_dtype="float64")
    torch.set_default_dtype(dtype)
