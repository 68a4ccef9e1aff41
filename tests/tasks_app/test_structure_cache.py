"""Parsed structures kept per worker process (``tasks_app.structure_cache``, issue 12).

Every caller gets what a fresh parse gives, as an object of its own; a changed file is parsed again;
a file carrying results (a calculator a copy would drop) is never kept."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import read, write

from tasks_app import structure_cache


@pytest.fixture(autouse=True)
def empty():
    structure_cache.clear()
    yield
    structure_cache.clear()


def same(a, b) -> bool:
    return (
        a.get_chemical_symbols() == b.get_chemical_symbols() and np.array_equal(a.positions, b.positions)
        and np.array_equal(a.cell.array, b.cell.array) and list(a.pbc) == list(b.pbc) and a.info == b.info
        and sorted(a.arrays) == sorted(b.arrays)
    )  # fmt: skip


def counted_parse(path, parses):
    def parse():
        parses.append(path)
        return read(path, format="extxyz")

    return parse


def test_parsed_once_and_each_caller_gets_its_own_copy(tmp_path):
    path = tmp_path / "cu.extxyz"
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.info["tags"] = {"set": ["a"]}
    write(path, atoms, format="extxyz")
    parses: list = []
    first = structure_cache.read(path, counted_parse(path, parses))
    assert same(first, read(path, format="extxyz"))
    first.positions[0] += 1.0  # an executor moving atoms, editing info
    first.info["tags"]["set"].append("b")
    second = structure_cache.read(path, counted_parse(path, parses))
    assert len(parses) == 1 and second is not first
    assert same(second, read(path, format="extxyz"))


def test_a_rewritten_file_is_parsed_again(tmp_path):
    path = tmp_path / "s.extxyz"
    write(path, bulk("Cu", "fcc", a=3.61, cubic=True), format="extxyz")
    parses: list = []
    structure_cache.read(path, counted_parse(path, parses))
    write(path, bulk("Ni", "fcc", a=3.52, cubic=True), format="extxyz")
    again = structure_cache.read(path, counted_parse(path, parses))
    assert len(parses) == 2 and set(again.get_chemical_symbols()) == {"Ni"}


def test_a_file_with_results_is_not_kept(tmp_path):
    path = tmp_path / "r.extxyz"
    atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
    atoms.calc = SinglePointCalculator(atoms, energy=-1.5, forces=np.zeros((4, 3)))
    write(path, atoms, format="extxyz")
    parses: list = []
    for _ in range(2):
        got = structure_cache.read(path, counted_parse(path, parses))
        assert got.calc is not None and got.get_potential_energy() == pytest.approx(-1.5)
    assert len(parses) == 2


def test_only_the_last_structures_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(structure_cache, "MAX_STRUCTURES", 2)
    paths = [tmp_path / f"{i}.extxyz" for i in range(3)]
    for path in paths:
        write(path, bulk("Cu", "fcc", a=3.61, cubic=True), format="extxyz")
    parses: list = []
    for path in [*paths, paths[0]]:
        structure_cache.read(path, counted_parse(path, parses))
    assert parses == [*paths, paths[0]]  # the first was dropped when the third came


@pytest.mark.django_db(transaction=True)
def test_a_worker_parses_a_structure_once_for_its_tasks(owner, cu_structure, emt, run_inline, monkeypatch):
    from tasks_app import runner
    from tests.conftest import make_task

    parses: list = []
    real = runner.read
    monkeypatch.setattr(runner, "read", lambda *a, **k: parses.append(a[0]) or real(*a, **k))
    done = [run_inline(make_task(owner, cu_structure, emt), device="cpu") for _ in range(2)]
    assert len(parses) == 1
    assert done[0].result["energy_ev"] == done[1].result["energy_ev"]
    assert done[0].result["forces_ev_per_a"] == done[1].result["forces_ev_per_a"]
