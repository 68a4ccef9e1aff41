"""Run the scientific task types with SevenNet-0 on built-in MOFSimBench structures (CPU check).

Calls the executors directly (the same functions a worker runs) with the ``quick`` preset and
the structure's DFT reference filled in exactly as the runner does (``tasks_app.params.run_params``).
Writes one JSON per (structure, task) to ``--out`` and prints a summary line each; numbers are
quoted in docs/validation.md.

    WORKDIR=/tmp/mofsim-val .venv/bin/python bench/validate_executors.py --out /tmp/mofsim-val/results
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mofsim_site.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from ase.geometry import get_distances  # noqa: E402
from ase.io import read  # noqa: E402

from models_app.loaders import build_calculator  # noqa: E402
from mofsim_site import executors  # noqa: E402
from mofsim_site.executors import Reporter  # noqa: E402
from structures_app.builtin import ROOT, read_index, reference_from_row  # noqa: E402
from tasks_app.params import run_params, validate_params  # noqa: E402

TASKS = ("optimization", "stability", "bulk_modulus", "heat_capacity", "interaction_energy")


def guest_site(atoms, distance=None, grid=12) -> list[float]:
    """A point of a fractional ``grid``³ mesh: the one farthest from every atom (pore centre), or
    with ``distance`` the one whose nearest atom (minimum image) is closest to that distance."""
    f = (np.indices((grid,) * 3).reshape(3, -1).T + 0.5) / grid
    points = f @ np.array(atoms.cell)
    _, d = get_distances(points, atoms.positions, cell=atoms.cell, pbc=True)
    nearest = d.min(axis=1)
    best = nearest.argmax() if distance is None else np.abs(nearest - distance).argmin()
    return points[best].tolist()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--structures", nargs="+", default=["MOF-5_primitive", "UiO-66_primitive"])
    parser.add_argument("--tasks", nargs="+", default=list(TASKS))
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--guest-distance", type=float, default=None, help="Å to the nearest atom")
    parser.add_argument("--d3", action="store_true", help="add D3(BJ) (torch-dftd) to SevenNet-0")
    parser.add_argument("--override", type=json.loads, default={}, help='JSON {"kind": {param: value}}')
    args = parser.parse_args()
    rows = {r["name"]: r for r in read_index("index_main_set.csv")}
    calc = build_calculator({"family": "sevennet", "model_name": "7net-0"}, "cpu", d3=args.d3)
    for name in args.structures:
        row = rows[name]
        atoms = read(ROOT / row["file"])
        for kind in args.tasks:
            extra = {}
            if kind == "interaction_energy":
                extra = {"guest": "CO2", "guest_position": guest_site(atoms, args.guest_distance)}
            extra.update(args.override.get(kind, {}))
            params = run_params(kind, validate_params(kind, extra, args.preset), reference_from_row(row))
            workdir = args.out / name / (kind + ("_d3" if args.d3 else ""))
            started = time.perf_counter()
            result = executors.get(kind).load_run()(atoms.copy(), calc, params, Reporter(workdir))
            wall = time.perf_counter() - started
            result.pop("forces_complex_ev_per_a", None)
            record = {"structure": name, "kind": kind, "preset": args.preset, "d3": args.d3, "params": params,
                      "wall_s": wall,
                      "result": result}  # fmt: skip
            (workdir / "summary.json").write_text(json.dumps(record, indent=1, default=float))
            print(f"### {name} {kind} {wall:.1f} s", flush=True)


if __name__ == "__main__":
    main()
