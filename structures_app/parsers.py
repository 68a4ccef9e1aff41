"""Reading and checking uploaded structure files with ASE (runs in a limited child, no Django).

Only CIF, XYZ/extXYZ and VASP POSCAR are accepted; the extension decides the parser (never
ASE's format guessing). ``structures_app.parse_child`` runs ``parse_structure`` under memory,
CPU and wall-time limits (``mofsim_site.limited``); the web process only sees the summary.

Cheap checks come before expensive ones, so a hostile file is refused before it costs anything:
the atom count a CIF declares (sites × symmetry operations) before expanding it, the count an
XYZ header declares before reading it; then the cell (periodic formats need a real cell; lengths,
thickness and density within bounds); then overlapping atoms with a cell list, O(n). CIF sites
are expanded one by one so two sites landing on the same position are reported by label instead
of being merged silently (ASE keeps one of them). Problems are ``StructureError`` with a message
a user can act on; ASE's own exception text is never shown as such.
"""

import math
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

FORMATS = {".cif": "cif", ".xyz": "extxyz", ".extxyz": "extxyz", ".vasp": "vasp", ".poscar": "vasp"}
PERIODIC_FORMATS = {"cif", "vasp"}
AMU_PER_A3_TO_G_PER_CM3 = 1.66053906660


class StructureError(ValueError):
    pass


@dataclass(frozen=True)
class StructureLimits:
    """Bounds an uploaded structure must respect (from settings; see ``.env.example``)."""

    max_atoms: int = 20_000
    min_distance: float = 0.5  # Å; closer atoms are overlapping
    max_cell_length: float = 500.0  # Å, also the largest extent of a molecule
    min_density: float = 1e-4  # g/cm³
    max_density: float = 30.0  # g/cm³


@dataclass
class ParsedStructure:
    file_format: str
    formula: str
    n_atoms: int
    volume: float | None
    periodic: bool
    elements: list[str]
    cell_lengths: list[float]
    cell_angles: list[float]

    def as_dict(self) -> dict:
        return asdict(self)


def format_for(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        raise StructureError(f"unsupported file type {suffix or '(none)'!r}; use one of {', '.join(sorted(FORMATS))}")
    return FORMATS[suffix]


def parse_structure(path: Path, filename: str, limits: StructureLimits, out_path: Path | None = None):
    """Parse and check ``path``; write the atoms as extXYZ to ``out_path``; return the summary."""
    fmt = format_for(filename)
    if fmt == "cif":
        atoms, labels = _read_cif(path, limits)
    else:
        if fmt == "extxyz":
            _check_xyz_header(path, limits)
        atoms = _read(path, fmt)
        labels = None
    n = len(atoms)
    if n == 0:
        raise StructureError("the file contains no atoms")
    _check_count(n, limits)
    if not np.isfinite(atoms.positions).all():
        raise StructureError("atomic positions contain NaN or infinity")
    periodic = _check_cell(atoms, fmt, limits)
    check_overlaps(atoms, limits.min_distance, labels)
    if out_path is not None:
        from ase.io import write

        write(out_path, atoms, format="extxyz")
    cellpar = atoms.cell.cellpar() if periodic else np.zeros(6)
    return ParsedStructure(
        file_format=fmt,
        formula=atoms.get_chemical_formula(mode="hill"),
        n_atoms=n,
        volume=float(atoms.get_volume()) if periodic else None,
        periodic=periodic,
        elements=sorted(set(atoms.get_chemical_symbols())),
        cell_lengths=[float(x) for x in cellpar[:3]],
        cell_angles=[float(x) for x in cellpar[3:]],
    )


def _check_count(n: int, limits: StructureLimits, what: str = "") -> None:
    if n > limits.max_atoms:
        raise StructureError(f"{what}{n} atoms is more than the limit of {limits.max_atoms}")


def _parse_error(fmt: str, exc: Exception) -> StructureError:
    """A user-facing reason: ASE's ValueErrors say what was wrong, other types are internals."""
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    if isinstance(exc, ValueError) and text:
        return StructureError(f"could not parse {fmt} file: {text}")
    return StructureError(f"could not parse {fmt} file: it is malformed or truncated")


def _read(path: Path, fmt: str):
    from ase.io import read

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return read(path, format=fmt, index=-1)
    except StopIteration as exc:  # ASE's readers stop without an error when they find no frame
        raise StructureError(f"could not parse {fmt} file: it contains no readable structure") from exc
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - ASE raises many types for bad input
        raise _parse_error(fmt, exc) from exc


def _check_xyz_header(path: Path, limits: StructureLimits) -> None:
    with open(path, "rb") as fh:
        first = fh.readline(100).strip()
    if first.isdigit():
        _check_count(int(first), limits, "the file declares ")


def _read_cif(path: Path, limits: StructureLimits):
    """Atoms of the last CIF block with a structure, plus a site label per atom."""
    from ase.io.cif import parse_cif

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with open(path, "rb") as fh:
                blocks = [block for block in parse_cif(fh) if block.has_structure()]
            if not blocks:
                raise StructureError("could not parse cif file: it contains no readable structure")
            block = blocks[-1]
            sites = block.get_unsymmetrized_structure()
            spacegroup = block.get_spacegroup(subtrans_included=True) if sites.cell.rank == 3 else None
    except (StructureError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - ASE raises many types for bad input
        raise _parse_error("cif", exc) from exc
    if sites.cell.rank != 3:
        raise StructureError("the CIF has no complete cell (_cell_length_a/b/c, angles): a CIF must be periodic")
    # Distinct operations (ASE may list an inversion twice when the CIF gives all of them).
    n_ops = len({(rot.tobytes(), np.round(trans % 1.0, 6).tobytes()) for rot, trans in spacegroup.get_symop()})
    _check_count(len(sites) * n_ops, limits, f"{len(sites)} sites × {n_ops} symmetry operations = up to ")
    occupancy = block.get("_atom_site_occupancy")
    if occupancy is not None:
        for label, occ in zip(_site_labels(block, len(sites)), occupancy, strict=False):
            if not isinstance(occ, int | float) or abs(occ - 1) > 1e-3:
                raise StructureError(
                    f"site {label} has occupancy {occ}: partially occupied (disordered) sites are not supported"
                )
    return _expand(sites, spacegroup, _site_labels(block, len(sites)))


def _site_labels(block, n: int) -> list[str]:
    labels = block.get("_atom_site_label")
    if isinstance(labels, list) and len(labels) == n:
        return [str(x) for x in labels]
    return [f"#{i + 1}" for i in range(n)]


def _expand(sites, spacegroup, labels):
    """Apply the symmetry operations site by site (each orbit de-duplicated, sites never merged)."""
    from ase import Atoms

    scaled = sites.cell.scaled_positions(sites.positions)
    positions, numbers, atom_labels = [], [], []
    for i, point in enumerate(scaled):
        orbit, _ = spacegroup.equivalent_sites([point], onduplicates="keep")
        positions.append(orbit)
        numbers.extend([sites.numbers[i]] * len(orbit))
        atom_labels.extend([labels[i]] * len(orbit))
    atoms = Atoms(numbers=numbers, cell=sites.cell, pbc=True)
    atoms.set_scaled_positions(np.concatenate(positions))
    return atoms, atom_labels


def _check_cell(atoms, fmt: str, limits: StructureLimits) -> bool:
    """True when periodic. A cell must be full rank, not too long or thin, and of sane density."""
    has_cell = bool(atoms.pbc.any()) or fmt in PERIODIC_FORMATS
    if not has_cell:
        extent = np.ptp(atoms.positions, axis=0).max() if len(atoms) > 1 else 0.0
        if extent > limits.max_cell_length:
            raise StructureError(
                f"the molecule spans {extent:.0f} Å, more than the limit of {limits.max_cell_length:g} Å"
            )
        return False
    if not atoms.pbc.all():
        raise StructureError("partially periodic cells are not supported: pbc must be all true or all false")
    cell = np.asarray(atoms.cell)
    volume = abs(float(np.linalg.det(cell)))
    if not np.isfinite(cell).all() or volume < 1e-6:
        raise StructureError("the cell is degenerate (zero volume)")
    lengths = np.linalg.norm(cell, axis=1)
    if lengths.max() > limits.max_cell_length:
        raise StructureError(
            f"cell length {lengths.max():.4g} Å is more than the limit of {limits.max_cell_length:g} Å"
        )
    # Distance between opposite faces: below the overlap distance an atom overlaps its own image.
    heights = volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    if heights.min() < limits.min_distance:
        raise StructureError(f"the cell is {heights.min():.3f} Å thin: atoms would overlap their periodic images")
    density = float(atoms.get_masses().sum()) / volume * AMU_PER_A3_TO_G_PER_CM3
    if not limits.min_density <= density <= limits.max_density:
        raise StructureError(
            f"density {density:.3g} g/cm³ is outside {limits.min_density:g}–{limits.max_density:g} g/cm³"
        )
    return True


def _name(atoms, labels, i: int) -> str:
    return labels[i] if labels is not None else f"{i + 1} ({atoms[i].symbol})"


def check_overlaps(atoms, min_distance: float, labels: list[str] | None = None) -> None:
    """Refuse atoms closer than ``min_distance``, in O(n) time and memory.

    First every atom goes into a cubic bin of side ``min_distance/√3``: two atoms in one bin
    are certainly overlapping, and once no bin holds two, the number of pairs within
    ``min_distance`` is bounded, so ASE's cell-list ``neighbor_list`` cannot blow up (19 000 atoms
    on one point would otherwise mean 3.6e8 pairs).
    """
    if len(atoms) < 2 and not atoms.pbc.any():
        return
    from ase.neighborlist import neighbor_list

    positions = atoms.get_positions(wrap=bool(atoms.pbc.any()))
    bins = np.floor(positions / (min_distance / math.sqrt(3))).astype(np.int64)
    _, first, inverse = np.unique(bins, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    clash = np.nonzero(first[inverse] != np.arange(len(atoms)))[0]
    if len(clash):
        j = int(clash[0])
        i = int(first[inverse[j]])
        pairs = [(i, j, float(np.linalg.norm(positions[i] - positions[j])))]
    else:
        ii, jj, dd = neighbor_list("ijd", atoms, min_distance, self_interaction=False)
        pairs = [(int(a), int(b), float(d)) for a, b, d in zip(ii, jj, dd, strict=True) if a <= b][:1]
    if pairs:
        i, j, distance = pairs[0]
        who = (
            f"atom {_name(atoms, labels, i)} and its periodic image"
            if i == j
            else (f"atoms {_name(atoms, labels, i)} and {_name(atoms, labels, j)}")
        )
        raise StructureError(f"{who} are {distance:.3f} Å apart (< {min_distance:g} Å): overlapping atoms")
