"""Fixtures for training tests: synthetic DMS files, EMT-labelled frames, uploaded datasets."""

import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from tests.training.synthetic import make_dms


@pytest.fixture
def dms_files(tmp_path):
    """Singles of a 40-residue protein from the additive model (760 variants)."""
    return make_dms(tmp_path / "dms", length=40, n_doubles=0, noise=0.15, seed=7)


@pytest.fixture
def emt_frames(tmp_path):
    """Rattled 8-atom Cu cells labelled with EMT energies and forces, as an extXYZ file."""
    frames = []
    for i in range(20):
        atoms = bulk("Cu", "fcc", a=3.6, cubic=True).repeat((2, 1, 1))
        atoms.rattle(0.08, seed=i)
        atoms.calc = EMT()
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        frames.append(atoms)
    path = tmp_path / "cu_emt.extxyz"
    write(path, frames, format="extxyz")
    return path


def upload(api, path, **extra):
    with open(path, "rb") as fh:
        return api.post("/api/v1/datasets/", {"file": fh, **extra}, format="multipart")
