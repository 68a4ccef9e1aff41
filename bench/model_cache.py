"""Why workers keep models loaded (DESIGN.md rule 4): first load vs cached calculator, SevenNet-0.

Prints the cost of building the SevenNet-0 calculator, the cost of a cache hit, and one
energy+forces+stress call on MOF-5 (106 atoms) for scale, as ratios from one run.

Run:  .venv/bin/python bench/model_cache.py
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    from ase.io import read

    from models_app import cache
    from models_app.devices import pick_device

    device = pick_device()
    spec = {"name": "sevennet-0", "family": "sevennet", "model_name": "7net-0", "sha256": ""}
    t0 = time.perf_counter()
    calc = cache.get_calculator(spec, device)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(1000):
        cache.get_calculator(spec, device)
    hit = (time.perf_counter() - t0) / 1000
    atoms = read(ROOT / "data/mofsimbench/mof_benchmark/experiments/structures/main_set/MOF-5_primitive.cif")
    atoms.calc = calc
    atoms.get_potential_energy()  # warm-up
    t0 = time.perf_counter()
    atoms.rattle(0.001, seed=1)
    atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()
    call = time.perf_counter() - t0
    print(
        f"device {device}: first load {first:.2f} s, cache hit {hit * 1e6:.1f} µs, "
        f"MOF-5 (106 atoms) energy+forces+stress {call:.3f} s"
    )
    print(f"a cold load costs {first / call:.0f} force calls; a cache hit {hit / call:.2e} of one")


if __name__ == "__main__":
    main()
