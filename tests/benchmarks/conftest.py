"""A tiny benchmark set: two 4-atom EMT Cu cells, one with a DFT-like reference volume."""

import pytest
from ase.build import bulk
from ase.io import write

# EMT's relaxed fcc Cu (a ≈ 3.59 Å) has 4 × 11.57 ≈ 46.3 Å³; use it as the "DFT" volume.
REFERENCE_VOLUME = 46.3


@pytest.fixture
def cu_set(tmp_path, owner):
    from structures_app.models import StructureSet, StructureSetMember
    from structures_app.services import store_path

    members = []
    for index, (name, a) in enumerate([("Cu-wide", 3.70), ("Cu-tight", 3.52)]):
        atoms = bulk("Cu", "fcc", a=a, cubic=True)
        atoms.rattle(0.02, seed=index + 1)
        path = tmp_path / f"{name}.cif"
        write(path, atoms)
        reference = {"dft_volume": REFERENCE_VOLUME} if name == "Cu-wide" else {}
        members.append(store_path(path, owner=owner, project=owner.username, name=name, reference=reference))
    structure_set = StructureSet.objects.create(slug="cu-pair", owner=owner, description="two Cu cells")
    for index, structure in enumerate(members):
        StructureSetMember.objects.create(structure_set=structure_set, structure=structure, index=index)
    return structure_set
