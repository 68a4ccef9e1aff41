"""Structure comparison metrics shared by the optimization and stability executors.

Definitions follow the MOFSimBench analysis code (shared/MOFSIMBENCH.md §2.1, §2.2) so numbers
are comparable with the paper:

* RMSD: copy both structures, ``ase.build.minimize_rotation_and_translation(reference, other)``,
  then minimum-image displacements in the reference cell, root of the mean of the *squared
  Cartesian components* (so it is the per-atom displacement divided by √3, not the usual
  per-atom RMSD).
* Metal coordination: pymatgen ``CrystalNN(x_diff_weight=1.5, search_cutoff=4.5,
  weighted_cn=True)`` for every metal atom, averaged per element. Metals are the alkali,
  alkaline-earth, transition, post-transition, lanthanide and actinide elements (B, Si, Ge, As,
  Sb, Te are not metals here; Al, Ga, In, Sn, Pb, Bi are).
"""

import warnings

import numpy as np
from ase.build import minimize_rotation_and_translation
from ase.data import atomic_numbers, chemical_symbols
from ase.geometry import find_mic

_NON_METALS = {"H", "He", "B", "C", "N", "O", "F", "Ne", "Si", "P", "S", "Cl", "Ar", "Ge", "As", "Se", "Br", "Kr"}
_NON_METALS |= {"Sb", "Te", "I", "Xe", "At", "Rn", "Ts", "Og"}
METALS = frozenset(s for s in chemical_symbols[1:] if s not in _NON_METALS)
METAL_NUMBERS = frozenset(atomic_numbers[s] for s in METALS)
CRYSTALNN_SETTINGS = {"x_diff_weight": 1.5, "search_cutoff": 4.5, "weighted_cn": True}


def position_rmsd(reference, atoms) -> float:
    """MOFSimBench RMSD of ``atoms`` to ``reference`` (same atom order and count) in Å."""
    if len(reference) != len(atoms):
        raise ValueError(f"atom counts differ ({len(reference)} vs {len(atoms)})")
    target, moved = reference.copy(), atoms.copy()
    minimize_rotation_and_translation(target, moved)
    displacements, _ = find_mic(target.positions - moved.positions, cell=target.cell, pbc=target.pbc)
    return float(np.sqrt(np.mean(displacements**2)))


def match_atom_order(reference, atoms):
    """``reference`` reordered so atom i corresponds to ``atoms[i]``, and how it was matched.

    Some DFT reference files list the atoms in another order than the benchmark input (e.g.
    Zn-MOF-74), which makes an index-by-index RMSD meaningless. When the species sequences differ,
    atoms are paired per element by an optimal assignment (Hungarian) on minimum-image distances
    in fractional coordinates of the reference cell. Returns ``(reference, "index" | "assignment")``.
    """
    if reference.get_chemical_symbols() == atoms.get_chemical_symbols():
        return reference, "index"
    if sorted(reference.get_chemical_symbols()) != sorted(atoms.get_chemical_symbols()):
        raise ValueError("the structures have different compositions")
    from scipy.optimize import linear_sum_assignment

    ref_frac = reference.get_scaled_positions()
    our_frac = reference.cell.scaled_positions(atoms.positions)
    order = np.empty(len(atoms), dtype=int)
    symbols_ref, symbols_our = np.array(reference.get_chemical_symbols()), np.array(atoms.get_chemical_symbols())
    for element in set(symbols_our):
        ours, theirs = np.where(symbols_our == element)[0], np.where(symbols_ref == element)[0]
        delta = our_frac[ours][:, None, :] - ref_frac[theirs][None, :, :]
        delta -= np.round(delta)
        cost = np.linalg.norm(delta @ reference.cell.array, axis=2)
        rows, cols = linear_sum_assignment(cost)
        order[ours[rows]] = theirs[cols]
    return reference[order], "assignment"


def cell_summary(atoms) -> dict:
    lengths_angles = atoms.cell.cellpar()
    return {
        "volume_a3": float(atoms.get_volume()),
        "cell_lengths_a": [float(x) for x in lengths_angles[:3]],
        "cell_angles_deg": [float(x) for x in lengths_angles[3:]],
    }


def cell_change(before: dict, after: dict) -> dict:
    """Differences ``after − before`` of two ``cell_summary`` dicts (Å, degrees, percent)."""
    return {
        "volume_change_pct": 100.0 * (after["volume_a3"] / before["volume_a3"] - 1.0),
        "cell_length_change_a": [a - b for a, b in zip(after["cell_lengths_a"], before["cell_lengths_a"], strict=True)],
        "cell_length_change_pct": [
            100.0 * (a / b - 1.0) for a, b in zip(after["cell_lengths_a"], before["cell_lengths_a"], strict=True)
        ],
        "cell_angle_change_deg": [
            a - b for a, b in zip(after["cell_angles_deg"], before["cell_angles_deg"], strict=True)
        ],
    }


def metal_indices(atoms) -> list[int]:
    return [i for i, z in enumerate(atoms.numbers) if int(z) in METAL_NUMBERS]


def metal_coordination(atoms) -> dict[str, float]:
    """Mean CrystalNN weighted coordination number per metal element ({} if there is no metal)."""
    indices = metal_indices(atoms)
    if not indices:
        return {}
    from pymatgen.analysis.local_env import CrystalNN
    from pymatgen.io.ase import AseAtomsAdaptor

    structure = AseAtomsAdaptor.get_structure(atoms)
    nn = CrystalNN(**CRYSTALNN_SETTINGS)
    per_element: dict[str, list[float]] = {}
    with warnings.catch_warnings():  # "no oxidation states" etc.: expected for MOFs, as in the benchmark
        warnings.simplefilter("ignore")
        for i in indices:
            per_element.setdefault(atoms[i].symbol, []).append(float(nn.get_cn(structure, i, use_weights=True)))
    return {symbol: float(np.mean(values)) for symbol, values in sorted(per_element.items())}
