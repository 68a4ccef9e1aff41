"""Batched vs one-at-a-time: structures/s with the same model on the same device, in one run.

For the smallest main-set MOFs (calf 44, NUVCUD_full 45, SAS_primitive 48, AGEDIC_full 52,
Zn-MOF-74 54 atoms, cycled and slightly rattled to make N distinct structures) it measures
* single points: the ASE calculator one structure at a time vs the batched engine at batch
  sizes 1, 4, 16, 64 (energy, forces and stress in both);
* relaxation: ASE FIRE + FrechetCellFilter one structure at a time vs the same optimizer in
  lockstep (models_app.batched.relax) over batches of the same sizes, a fixed number of steps;
* MD: Langevin NVT and MTK NPT, each structure through ``run_md`` and its ASE calculator one at a
  time vs ``run_md_together`` (ASE dynamics per structure in lockstep, models_app.batched.dynamics)
  over batches of the same sizes, a fixed number of steps, with the largest position difference
  between the two paths after the last step (same seeds: float32 round-off);
* heat capacity: the phonopy displaced cells of one MOF through the calculator vs the engine;
* the main-set MOFs with at most 110 atoms (the issue's target size), each once;
* one large structure alone (batching must never make it slower);
and prints throughputs and the ratios, with the share of the batched time spent in the model's
forward pass (the rest is building graphs and packing on the CPU). ``--quick`` (a few minutes
on a 2-core CPU) uses fewer structures, steps and batch sizes; it ends with the line
``batched/one-at-a-time (single points, 16 structures): <ratio>x``.

Run:  .venv/bin/python bench/batching.py --quick        (MODEL: sevennet-0 on the picked device)
      .venv/bin/python bench/batching.py --quick --md-only   (the MD section alone)
"""

import argparse
import csv
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MAIN_SET = ROOT / "data/mofsimbench/mof_benchmark/experiments/structures/main_set"
INDEX = ROOT / "data/mofsimbench/index_main_set.csv"
SMALLEST = ["calf", "NUVCUD_full", "SAS_primitive", "AGEDIC_full", "Zn-MOF-74"]


def structures(n):
    from ase.io import read

    base = [read(MAIN_SET / f"{name}.cif") for name in SMALLEST]
    out = []
    for i in range(n):
        atoms = base[i % len(base)].copy()
        atoms.rattle(0.01, seed=i)
        out.append(atoms)
    return out


def main_set_upto(max_atoms):
    """Names of the main-set MOFs with at most ``max_atoms`` atoms, smallest first (from the
    shipped index, without reading 172 CIFs)."""
    with open(INDEX, newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if int(row["n_atoms"]) <= max_atoms]
    return [row["name"] for row in sorted(rows, key=lambda row: int(row["n_atoms"]))]


def read_main_set(names):
    from ase.io import read

    return [read(MAIN_SET / f"{name}.cif") for name in names]


def timed(fn):
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def one_at_a_time_single_points(calc, atoms_list):
    for atoms in atoms_list:
        atoms = atoms.copy()
        atoms.calc = calc
        atoms.get_potential_energy(), atoms.get_forces(), atoms.get_stress()


def batched_single_points(engine, atoms_list):
    outcomes = engine.evaluate(atoms_list)
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]


def one_at_a_time_relax(calc, atoms_list, steps):
    from ase.filters import FrechetCellFilter
    from ase.optimize import FIRE

    for atoms in atoms_list:
        atoms = atoms.copy()
        atoms.calc = calc
        FIRE(FrechetCellFilter(atoms), logfile=None).run(fmax=1e-6, steps=steps)  # never converges: fixed steps


def batched_relax(engine, atoms_list, steps, batch):
    from ase.filters import FrechetCellFilter
    from ase.optimize import FIRE

    from models_app.batched.relax import relax_many

    for start in range(0, len(atoms_list), batch):
        group = [a.copy() for a in atoms_list[start : start + batch]]
        summaries = relax_many(engine, group, optimizer_cls=FIRE, filter_cls=FrechetCellFilter, fmax=1e-6,
                               steps=steps)  # fmt: skip
        assert all(s["error"] is None for s in summaries)


def md_stage(ensemble, steps):
    return {"name": ensemble, "ensemble": ensemble, "steps": steps, "temperature_k": 300.0, "timestep_fs": 1.0,
            "init_velocities": True, "velocity_seed": 0, "langevin_seed": 0}  # fmt: skip


def one_at_a_time_md(calc, atoms_list, stage, workdir):
    from mofsim_site.executors import Reporter
    from tasks_app.executors.md import run_md

    out = []
    for atoms in atoms_list:
        atoms = atoms.copy()
        atoms.calc = calc
        run_md(atoms, stage, report=Reporter(workdir), interval=stage["steps"])
        out.append(atoms)
    return out


def batched_md(engine, atoms_list, stage, batch, workdir):
    from mofsim_site.executors import Reporter
    from tasks_app.executors.md import MDRun, run_md_together

    out = []
    for start in range(0, len(atoms_list), batch):
        group = [a.copy() for a in atoms_list[start : start + batch]]
        runs = [MDRun(atoms, stage, Reporter(workdir), interval=stage["steps"]) for atoms in group]
        done = run_md_together(engine, runs)
        assert all(d.error is None for d in done), [str(d.error) for d in done if d.error is not None]
        out += group
    return out


def md_sections(calc, adapter, md_pool, steps, sizes):
    with tempfile.TemporaryDirectory() as workdir:
        for ensemble in ("nvt_langevin", "npt_mtk"):
            md_section(calc, adapter, md_pool, md_stage(ensemble, steps), sizes, workdir)


def md_section(calc, adapter, md_pool, stage, sizes, workdir):
    from models_app.batched.engine import BatchedEngine

    n, steps = len(md_pool), stage["steps"]
    print(f"\n== MD ({stage['ensemble']}): {n} structures, {steps} steps each")
    started = time.perf_counter()
    reference = one_at_a_time_md(calc, md_pool, stage, workdir)
    ref = time.perf_counter() - started
    print(f"one at a time (ASE):                {n / ref:8.3f} structures/s  {n * steps / ref:7.2f} steps/s")
    for size in [s for s in sizes if s <= n]:
        started = time.perf_counter()
        lockstep = batched_md(BatchedEngine(adapter, max_batch=size), md_pool, stage, size, workdir)
        took = time.perf_counter() - started
        drift = max(np.abs(a.positions - b.positions).max() for a, b in zip(reference, lockstep, strict=True))
        print(f"lockstep, batch {size:3d}:            {n / took:8.3f} structures/s  {n * steps / took:7.2f} steps/s"
              f"  {ref / took:5.2f}x  (max |Δx| vs one at a time {drift:.1e} Å)")  # fmt: skip


def displaced_cells(name):
    from ase import Atoms
    from ase.io import read
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    atoms = read(MAIN_SET / f"{name}.cif")
    unit = PhonopyAtoms(symbols=atoms.get_chemical_symbols(), cell=np.array(atoms.cell),
                        scaled_positions=atoms.get_scaled_positions())  # fmt: skip
    phonon = Phonopy(unit, primitive_matrix="auto")
    phonon.generate_displacements(distance=0.01)
    return [Atoms(symbols=c.symbols, cell=c.cell, scaled_positions=c.scaled_positions, pbc=True)
            for c in phonon.supercells_with_displacements]  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer structures, steps and batch sizes")
    parser.add_argument("--md-only", action="store_true", help="only the MD section (no headline line)")
    parser.add_argument(
        "--large-atoms",
        type=int,
        default=0,
        help="largest size of the one large structure (default 3000 atoms on CUDA, 450 on CPU)",
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mofsim_site.settings")  # the device choice reads settings
    import django

    django.setup()

    from models_app.batched.engine import BatchedEngine, engine_for
    from models_app.devices import device_info, pick_device
    from models_app.loaders import build_calculator

    device = pick_device()
    calc = build_calculator({"family": "sevennet", "model_name": "7net-0"}, device)
    adapter = engine_for(calc).adapter
    info = device_info(device)
    print(f"SevenNet-0 on {device} ({info.get('gpu_name') or info.get('cpu')}, torch threads {info.get('threads')})")

    sizes = [1, 4, 16] if args.quick else [1, 4, 16, 64]
    n_single = 16 if args.quick else 64
    n_relax, relax_steps = (4, 5) if args.quick else (16, 20)
    n_md, md_steps = (4, 4) if args.quick else (16, 20)
    phonon_mof = "SAS_primitive" if args.quick else "calf"

    pool = structures(n_single)
    one_at_a_time_single_points(calc, pool[:2])  # warm-up of both paths
    BatchedEngine(adapter).evaluate(pool[:2])
    if args.md_only:
        md_sections(calc, adapter, pool[:n_md], md_steps, sizes)
        return
    atoms_total = sum(len(a) for a in pool)
    print(f"\n== single points: {n_single} structures, {atoms_total} atoms")
    ref = timed(lambda: one_at_a_time_single_points(calc, pool))
    print(f"one at a time (ASE calculator): {n_single / ref:8.2f} structures/s  {atoms_total / ref:9.0f} atoms/s")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    single_ratio = {}
    for size in sizes:
        engine = BatchedEngine(adapter, max_batch=size)
        if device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        took = timed(lambda engine=engine: batched_single_points(engine, pool))
        single_ratio[size] = ref / took
        share, passes = engine.counters.seconds / took, engine.counters.passes
        print(f"batched, batch {size:3d}:             {n_single / took:8.2f} structures/s  {atoms_total / took:9.0f} "
              f"atoms/s  {single_ratio[size]:5.2f}x  ({passes} passes, forward {share:.0%})")  # fmt: skip
        if device == "cuda":  # what a pack really takes on the GPU: calibrates the engine's per-atom estimate
            peak = torch.cuda.max_memory_allocated()
            pack_atoms = atoms_total * engine.counters.largest_pack / n_single
            print(f"    peak GPU memory {peak / 2**20:8.0f} MB, {peak / pack_atoms / 1e3:6.0f} kB per atom of a pack")
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    print(f"peak resident memory grew by {grown / 1024:.0f} MB over the batched passes (CPU estimate of pack cost)")

    relax_pool = pool[:n_relax]
    print(f"\n== relaxation: {n_relax} structures, FIRE + FrechetCellFilter, {relax_steps} steps each")
    ref = timed(lambda: one_at_a_time_relax(calc, relax_pool, relax_steps))
    print(f"one at a time (ASE):                {n_relax / ref:8.3f} structures/s  "
          f"{n_relax * relax_steps / ref:7.2f} steps/s")  # fmt: skip
    for size in [s for s in sizes if s <= n_relax]:
        engine = BatchedEngine(adapter, max_batch=size)
        took = timed(lambda engine=engine, size=size: batched_relax(engine, relax_pool, relax_steps, size))
        print(f"lockstep, batch {size:3d}:            {n_relax / took:8.3f} structures/s  "
              f"{n_relax * relax_steps / took:7.2f} steps/s  {ref / took:5.2f}x")  # fmt: skip

    md_sections(calc, adapter, pool[:n_md], md_steps, sizes)

    cells = displaced_cells(phonon_mof)
    print(f"\n== heat capacity force pass: {len(cells)} displaced cells of {phonon_mof} ({len(cells[0])} atoms)")
    ref = timed(lambda: one_at_a_time_single_points(calc, cells))
    print(f"one at a time (ASE calculator): {len(cells) / ref:8.2f} cells/s")
    for size in sizes:
        engine = BatchedEngine(adapter, max_batch=size)
        took = timed(lambda engine=engine: batched_single_points(engine, cells))
        print(f"batched, batch {size:3d}:             {len(cells) / took:8.2f} cells/s  {ref / took:5.2f}x")

    small = read_main_set(main_set_upto(110)[: 8 if args.quick else None])
    small_atoms = sum(len(a) for a in small)
    print(f"\n== main-set MOFs with <= 110 atoms: {len(small)} structures, {small_atoms} atoms, single points")
    ref = timed(lambda: one_at_a_time_single_points(calc, small))
    print(f"one at a time (ASE calculator): {len(small) / ref:8.2f} structures/s  {small_atoms / ref:9.0f} atoms/s")
    for size in sizes:
        engine = BatchedEngine(adapter, max_batch=size)
        took = timed(lambda engine=engine: batched_single_points(engine, small))
        share = engine.counters.seconds / took
        print(f"batched, batch {size:3d}:             {len(small) / took:8.2f} structures/s  {small_atoms / took:9.0f} "
              f"atoms/s  {ref / took:5.2f}x  (forward pass {share:4.0%} of the time)")  # fmt: skip

    large_limit = args.large_atoms or (3000 if device == "cuda" else 450)
    name = main_set_upto(large_limit)[-1]
    (large,) = read_main_set([name])
    print(f"\n== one large structure: {name} ({len(large)} atoms), 3 single points each way")
    copies = [large.copy() for _ in range(3)]
    for seed, atoms in enumerate(copies):
        atoms.rattle(0.01, seed=seed)  # three distinct structures: the calculator would answer a repeat from its cache
    ref = timed(lambda: one_at_a_time_single_points(calc, copies))
    engine = BatchedEngine(adapter)
    took = timed(lambda: batched_single_points(engine, copies))
    print(f"one at a time (ASE): {ref / 3:7.3f} s each; batched engine: {took / 3:7.3f} s each  {ref / took:5.2f}x  "
          f"({engine.counters.passes} passes)")  # fmt: skip

    headline = single_ratio[16]
    if n_single != 16:  # the headline is always 16 structures in one batch
        first = pool[:16]
        ref = timed(lambda: one_at_a_time_single_points(calc, first))
        headline = ref / timed(lambda: batched_single_points(BatchedEngine(adapter, max_batch=16), first))
    print(f"\nbatched/one-at-a-time (single points, 16 structures): {headline:.2f}x")


if __name__ == "__main__":
    main()
