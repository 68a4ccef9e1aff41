"""Benchmark-report panels: the first draw of N E(V) panels vs the redraws a polling page asks for.

The report page is polled every few seconds while a run is active and redraws every finished
structure's panel; the Birch–Murnaghan fits behind them are cached on their numbers
(``tasks_app.results.charts``), so a redraw only renders SVG. This prints both times for the
same N panels in one run and their ratio, ending with the line
``panels first draw / redraw (N structures): <ratio>x``.

Run:  .venv/bin/python bench/report_panels.py [--structures 200]
"""

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mofsim_site.settings_test")


def eos_points(b0_gpa: float, v0: float) -> list[dict]:
    from ase.eos import birchmurnaghan
    from ase.units import GPa

    volumes = np.linspace(0.94 * v0, 1.06 * v0, 7)
    return [
        {"volume_a3": float(v), "energy_ev": float(e), "converged": True}
        for v, e in zip(volumes, birchmurnaghan(volumes, -500.0, b0_gpa * GPa, 4.5, v0), strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--structures", type=int, default=200)
    n = parser.parse_args().structures

    import django

    django.setup()
    from tasks_app.benchmarks.panels import structure_panels

    rows, results = [], {}
    for i in range(n):
        task_id = f"task-{i}"
        rows.append({"task_id": task_id, "structure": f"MOF-{i}", "b0_gpa": 10.0 + i % 40,
                     "dft_b0_gpa": 12.0 + i % 40, "eos_stable": True})  # fmt: skip
        results[task_id] = {"points": eos_points(10.0 + i % 40 + i * 1e-3, 2000.0 + 10 * i)}
    start = time.perf_counter()
    first = structure_panels("bulk_modulus", rows, results)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    again = structure_panels("bulk_modulus", rows, results)
    warm = time.perf_counter() - start
    assert [p["svg"] for p in first] == [p["svg"] for p in again], "a redraw must draw the same panels"
    print(f"first draw: {cold:.3f} s, redraw: {warm:.3f} s ({n} panels, {sum(len(p['svg']) for p in first)} bytes)")
    print(f"panels first draw / redraw ({n} structures): {cold / warm:.1f}x")


if __name__ == "__main__":
    main()
