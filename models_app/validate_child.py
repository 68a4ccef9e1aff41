"""Child process of models_app.validation (run with ``python -m``; no Django here)."""

import json
import math
import sys


def main(family: str, path: str, dtype: str) -> dict:
    import numpy as np
    from ase import Atoms

    from models_app.loaders import build_calculator

    spec = {"family": family, "model_path": path, "default_dtype": dtype}
    calc = build_calculator(spec, "cpu")
    numbers = [6]
    model = getattr(calc, "models", [None])[0]
    if model is not None and hasattr(model, "atomic_numbers"):
        numbers = [int(z) for z in model.atomic_numbers.tolist()][:2] or [6]
    z = numbers * (2 // len(numbers)) if len(numbers) < 2 else numbers[:2]
    atoms = Atoms(numbers=z, positions=[[0, 0, 0], [1.4, 0.3, 0.2]], cell=[6, 6, 6], pbc=True)
    atoms.calc = calc
    energy = float(atoms.get_potential_energy())
    forces = atoms.get_forces()
    stress = atoms.get_stress()
    finite = math.isfinite(energy) and np.isfinite(forces).all() and np.isfinite(stress).all()
    if not finite:
        return {"ok": False, "message": "model returned non-finite energy/forces/stress"}
    return {"ok": True, "message": f"loaded; test energy {energy:.4f} eV for Z={z}"}


if __name__ == "__main__":
    try:
        out = main(*sys.argv[1:4])
    except Exception as exc:  # noqa: BLE001
        out = {"ok": False, "message": f"{type(exc).__name__}: {exc}"[:500]}
    print(json.dumps(out))
