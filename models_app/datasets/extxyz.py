"""Labelled structures for interatomic-potential training (extended XYZ with energy + forces)."""

import warnings
from pathlib import Path

import numpy as np

from models_app.datasets import DatasetError

ENERGY_KEYS = ("REF_energy", "energy", "DFT_energy")
FORCE_KEYS = ("REF_forces", "forces", "DFT_forces")
MAX_FRAMES = 200_000


def frame_labels(atoms, index: int = 0) -> tuple[float, np.ndarray]:
    """Reference energy and forces of one frame (from a SinglePointCalculator or info/arrays keys)."""
    energy = forces = None
    calc = atoms.calc
    if calc is not None:
        energy = calc.results.get("energy")
        forces = calc.results.get("forces")
    for key in ENERGY_KEYS:
        if energy is None and key in atoms.info:
            energy = atoms.info[key]
    for key in FORCE_KEYS:
        if forces is None and key in atoms.arrays:
            forces = atoms.arrays[key]
    if energy is None or forces is None:
        missing = " and ".join(n for n, v in (("energy", energy), ("forces", forces)) if v is None)
        raise DatasetError(f"frame {index}: no reference {missing} (use keys energy/forces or REF_energy/REF_forces)")
    energy = float(energy)
    forces = np.asarray(forces, dtype=float)
    if not np.isfinite(energy) or not np.isfinite(forces).all():
        raise DatasetError(f"frame {index}: energy or forces are not finite")
    if forces.shape != (len(atoms), 3):
        raise DatasetError(f"frame {index}: forces have shape {forces.shape}, expected ({len(atoms)}, 3)")
    return energy, forces


def read_frames(path: Path) -> list:
    """All frames, each checked for atoms, finite positions and reference labels."""
    from ase.io import iread

    frames = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, atoms in enumerate(iread(str(path), format="extxyz", index=":")):
                if i >= MAX_FRAMES:
                    raise DatasetError(f"more than {MAX_FRAMES} frames")
                if len(atoms) == 0:
                    raise DatasetError(f"frame {i}: no atoms")
                if not np.isfinite(atoms.positions).all():
                    raise DatasetError(f"frame {i}: positions are not finite")
                frame_labels(atoms, i)
                frames.append(atoms)
    except DatasetError:
        raise
    except Exception as exc:  # noqa: BLE001 - ASE raises many types for bad input
        raise DatasetError(f"could not parse extxyz: {type(exc).__name__}: {exc}") from exc
    if not frames:
        raise DatasetError("empty file: no frames")
    return frames


def validate_extxyz(path: Path) -> dict:
    frames = read_frames(path)
    if len(frames) < 2:
        raise DatasetError("at least 2 frames are needed (one to train on, one to validate)")
    sizes = [len(a) for a in frames]
    return {
        "n_records": len(frames),
        "elements": sorted({s for a in frames for s in a.get_chemical_symbols()}),
        "n_atoms_min": min(sizes),
        "n_atoms_max": max(sizes),
        "periodic": bool(all(a.pbc.all() for a in frames)),
    }
