"""The batched engine against each model's own ASE calculator: the parity contract (DESIGN.md rule 11)."""

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk

from models_app.batched import engine_for
from models_app.batched.engine import BatchedEngine, pack
from tests.batched.conftest import main_set

# Database-independent: CI's PostgreSQL pass skips these (the embedded pass runs them; tests/conftest.py).
pytestmark = pytest.mark.db_independent


def reference(atoms, calc):
    atoms = atoms.copy()
    atoms.calc = calc
    return atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()


def test_it_matches_sevennet_0_at_float32_round_off_on_the_smallest_mofs(sevennet):
    structures = main_set("calf", "NUVCUD_full", "SAS_primitive", "AGEDIC_full")
    engine = engine_for(sevennet)
    assert engine.describe()["family"] == "sevennet" and engine.device == "cpu"
    outcomes = engine.evaluate(structures)
    assert engine.counters.passes == 1 and engine.counters.structures == 4  # one batched forward pass
    for atoms, outcome in zip(structures, outcomes, strict=True):
        energy, forces, stress = reference(atoms, sevennet)
        assert outcome.ok
        assert abs(outcome.energy - energy) <= 2e-6 * abs(energy)  # float32: ~1e-7 relative per sum
        assert np.abs(outcome.forces - forces).max() < 1e-4  # eV/Å
        assert np.abs(outcome.stress - stress).max() < 1e-6  # eV/Å³ (1e-6 eV/Å³ = 1.6e-4 GPa)
    assert not any(getattr(module, "_is_batch_data", False) for module in sevennet.model)  # switched back


def test_an_unknown_element_fails_only_its_own_structure(sevennet):
    calf, sas = main_set("calf", "SAS_primitive")
    alien = Atoms("Og2", positions=[[0, 0, 0], [2.5, 0, 0]], cell=[8, 8, 8], pbc=True)
    outcomes = engine_for(sevennet).evaluate([calf, alien, sas])
    assert outcomes[0].ok and outcomes[2].ok
    assert not outcomes[1].ok and "118" in outcomes[1].error
    assert outcomes[2].energy == pytest.approx(reference(sas, sevennet)[0], rel=2e-6)


def test_the_shared_calculator_still_works_unbatched_after_a_batched_call(sevennet):
    (calf,) = main_set("calf")
    before = reference(calf, sevennet)[0]
    engine_for(sevennet).evaluate([calf, calf])
    assert reference(calf, sevennet)[0] == before


def test_it_matches_a_mace_model_in_float64(tiny_mace_calc):
    structures = [bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2), bulk("Cu", "fcc", a=3.7) * (2, 2, 2)]
    structures.append(Atoms("CH3O", positions=[[0, 0, 0], [1.1, 0, 0], [-0.4, 1.0, 0], [-0.4, -0.5, 0.9],
                                               [0.2, -0.6, -1.2]], cell=[9, 9, 9], pbc=True))  # fmt: skip
    for atoms in structures:
        atoms.rattle(0.05, seed=1)
    engine = engine_for(tiny_mace_calc)
    outcomes = engine.evaluate(structures)
    assert engine.counters.passes == 1
    for atoms, outcome in zip(structures, outcomes, strict=True):
        energy, forces, stress = reference(atoms, tiny_mace_calc)
        assert outcome.energy == pytest.approx(energy, abs=1e-9)
        assert np.abs(outcome.forces - forces).max() < 1e-9
        assert np.abs(outcome.stress - stress).max() < 1e-10


def test_calculators_without_a_batched_path_get_none():
    from ase.calculators.emt import EMT

    assert engine_for(EMT()) is None and engine_for(None) is None


def test_packs_respect_the_memory_budget_and_the_batch_size():
    assert pack([10, 10, 10, 10], budget=25, max_batch=8) == [[0, 1], [2, 3]]
    assert pack([10] * 5, budget=1000, max_batch=2) == [[0, 1], [2, 3], [4]]
    assert pack([5, 100, 5], budget=50, max_batch=8) == [[0], [1], [2]]  # too big alone: its own pack
    assert pack([], budget=10, max_batch=4) == []


def test_a_budget_from_atoms_and_neighbours_splits_the_set_into_several_passes(tiny_mace_calc):
    structures = [bulk("Cu", "fcc", a=3.6, cubic=True).repeat(2) for _ in range(6)]
    probe = engine_for(tiny_mace_calc)
    _graph, edges = probe.adapter.graph(structures[0])
    one = probe.cost(len(structures[0]), edges)
    engine = engine_for(tiny_mace_calc, memory_budget=2 * one + 1)
    outcomes = engine.evaluate(structures)
    assert engine.counters.passes == 3 and engine.counters.largest_pack == 2
    assert len({round(o.energy, 9) for o in outcomes}) == 1


class _OutOfMemoryAbove:
    """Wraps a real adapter; a pass over more than ``limit`` structures raises CUDA's OOM error."""

    def __init__(self, inner, limit):
        self.inner, self.limit, self.family, self.device = inner, limit, inner.family, inner.device

    def graph(self, atoms):
        return self.inner.graph(atoms)

    def forward(self, graphs):
        if len(graphs) > self.limit:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (injected)")
        return self.inner.forward(graphs)


def test_a_pass_out_of_memory_is_split_and_the_smaller_size_kept(tiny_mace_calc):
    structures = [bulk("Cu", "fcc", a=a, cubic=True) for a in (3.5, 3.55, 3.6, 3.65, 3.7)]
    real = engine_for(tiny_mace_calc)
    engine = BatchedEngine(_OutOfMemoryAbove(real.adapter, limit=2), memory_budget=2**40, max_batch=8)
    outcomes = engine.evaluate(structures)
    expected = real.evaluate(structures)
    assert [o.energy for o in outcomes] == pytest.approx([o.energy for o in expected], abs=1e-12)
    assert engine.max_batch <= 2


def test_a_pass_packs_many_structures_on_a_gpu_and_one_on_a_cpu_unless_configured(monkeypatch):
    from models_app.batched.engine import max_structures

    monkeypatch.delenv("BATCH_MAX_STRUCTURES")
    assert max_structures(torch.device("cpu")) == 1  # packing is slower than one at a time on a CPU
    assert max_structures(torch.device("cuda")) == 256
    monkeypatch.setenv("BATCH_MAX_STRUCTURES", "8")
    assert max_structures(torch.device("cpu")) == 8
