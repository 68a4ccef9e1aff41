"""Reading and checking uploaded structure files with ASE.

Only CIF, XYZ/extXYZ, VASP POSCAR and ASE trajectory-free text formats are accepted; the
extension decides the parser (never ASE's format guessing). Problems are reported as
``StructureError`` with a message a user can act on.
"""

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FORMATS = {".cif": "cif", ".xyz": "extxyz", ".extxyz": "extxyz", ".vasp": "vasp", ".poscar": "vasp"}
MAX_ATOMS = 20_000
MIN_DISTANCE_A = 0.5


class StructureError(ValueError):
    pass


@dataclass
class ParsedStructure:
    atoms: object
    file_format: str
    formula: str
    n_atoms: int
    volume: float | None
    periodic: bool
    elements: list[str]
    cell_lengths: list[float]
    cell_angles: list[float]


def format_for(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        raise StructureError(f"unsupported file type {suffix or '(none)'!r}; use one of {', '.join(sorted(FORMATS))}")
    return FORMATS[suffix]


def parse_structure(path: Path, filename: str) -> ParsedStructure:
    from ase.io import read

    fmt = format_for(filename)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            atoms = read(path, format=fmt, index=-1)
    except StopIteration as exc:  # ASE's readers stop without an error when they find no frame
        raise StructureError(f"could not parse {fmt} file: it contains no readable structure") from exc
    except Exception as exc:  # noqa: BLE001 - ASE raises many types for bad input
        detail = str(exc).strip() or "the file is malformed"
        raise StructureError(f"could not parse {fmt} file: {type(exc).__name__}: {detail}") from exc
    n = len(atoms)
    if n == 0:
        raise StructureError("the file contains no atoms")
    if n > MAX_ATOMS:
        raise StructureError(f"{n} atoms is more than the limit of {MAX_ATOMS}")
    if not np.isfinite(atoms.positions).all():
        raise StructureError("atomic positions contain NaN or infinity")
    periodic = bool(atoms.pbc.all())
    volume = None
    if periodic:
        volume = float(atoms.get_volume())
        if not np.isfinite(volume) or volume <= 1e-6:
            raise StructureError("the cell is degenerate (zero volume)")
    if 1 < n <= 5000:
        distances = atoms.get_all_distances(mic=periodic)
        np.fill_diagonal(distances, np.inf)
        closest = float(distances.min())
        if closest < MIN_DISTANCE_A:
            raise StructureError(f"two atoms are {closest:.3f} Å apart (< {MIN_DISTANCE_A} Å): overlapping atoms")
    cellpar = atoms.cell.cellpar() if periodic else np.zeros(6)
    return ParsedStructure(
        atoms=atoms,
        file_format=fmt,
        formula=atoms.get_chemical_formula(mode="hill"),
        n_atoms=n,
        volume=volume,
        periodic=periodic,
        elements=sorted(set(atoms.get_chemical_symbols())),
        cell_lengths=[float(x) for x in cellpar[:3]],
        cell_angles=[float(x) for x in cellpar[3:]],
    )
