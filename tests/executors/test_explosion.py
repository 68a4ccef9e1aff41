"""An exploding system (huge or NaN energy) fails with that reason — in relaxations and in MD."""

import math

import pytest

from mofsim_site.executors import ExecutorError, Reporter
from tasks_app.executors import bulk_modulus, optimization, stability
from tasks_app.params import validate_params
from tests.executors.helpers import ExplodingEMT, cu


def test_a_huge_energy_fails_the_optimization(tmp_path):
    with pytest.raises(ExecutorError, match="System exploded at opt step 0"):
        optimization.run(cu(), ExplodingEMT(after=0), validate_params("optimization", {}), Reporter(tmp_path))


def test_a_nan_energy_fails_the_bulk_modulus(tmp_path):
    with pytest.raises(ExecutorError, match="System exploded.*nan"):
        bulk_modulus.run(cu(), ExplodingEMT(after=0, value=math.nan), validate_params("bulk_modulus", {}),
                         Reporter(tmp_path))  # fmt: skip


def test_an_explosion_during_md_fails_the_stability_run(tmp_path):
    params = validate_params("stability", {"opt_steps": 0}, preset="quick")
    calc = ExplodingEMT(after=8)  # fine for the first steps of NVT, then explodes
    with pytest.raises(ExecutorError, match=r"System exploded at nvt step \d+: \|E\| = 1e\+07 eV"):
        stability.run(cu(repeat=2), calc, params, Reporter(tmp_path))
