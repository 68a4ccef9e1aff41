"""The batched engine: graphs built per structure, packed by memory estimate, one forward per pack.

Failures stay with their structure: a structure whose graph cannot be built (unknown element),
whose energy or forces are not finite, or that alone does not fit in memory gets an ``Outcome``
with ``error`` set while the others get their numbers. A pack that runs out of memory is split
in half and retried, and the engine remembers the smaller size for its next calls.
"""

import time
from dataclasses import dataclass

import numpy as np
import torch

from models_app.batched.adapters import Unsupported, adapter_for
from mofsim_site.env import env_float, env_int

# Bytes of one forward + backward pass per edge and per atom (activations kept for the force
# gradient). SevenNet-0: bench/batching.py --quick measured 2.5 GB peak-RSS growth on CPU for a
# pack of 16 small MOFs (773 atoms, ~22k edges), ~110 kB per edge; MACE: an estimate from its
# feature widths. Not yet measured on a GPU. Too small a budget only costs speed; a pack that
# does not fit is caught by the out-of-memory split below.
BYTES_PER_EDGE = {"sevennet": 110_000, "mace": 20_000}
BYTES_PER_ATOM = 50_000
# Before a structure's graph exists (when a worker claims tasks to share a pass) its edges are
# estimated from its atoms: the 16 small MOFs above had ~28 edges per atom at SevenNet's 5 Å cutoff.
EDGES_PER_ATOM_ESTIMATE = 30
CPU_BUDGET_MB = 2048
GPU_FREE_FRACTION = 0.5


@dataclass
class Outcome:
    """One structure's result: energy (eV), forces (N×3, eV/Å), stress (Voigt, eV/Å³; None without
    a 3D cell) — or an error."""

    energy: float | None = None
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Counters:
    """What the engine did, for steps/s and atoms·steps/s in results and benchmarks."""

    passes: int = 0
    structures: int = 0
    atoms: int = 0
    seconds: float = 0.0
    largest_pack: int = 0


def memory_budget_bytes(device: torch.device) -> int:
    """``BATCH_MEMORY_MB`` if set; else half the free GPU memory, or 2 GiB on CPU."""
    configured = env_float("BATCH_MEMORY_MB", 0.0)
    if configured > 0:
        return int(configured * 2**20)
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(GPU_FREE_FRACTION * free)
    return CPU_BUDGET_MB * 2**20


def max_structures(device: torch.device) -> int:
    """``BATCH_MAX_STRUCTURES``: the most structures in one forward pass. Default 256 on a GPU and
    1 on a CPU: on an idle 2-core CPU a SevenNet-0 pass of 16 small MOFs took twice as long as
    16 passes of one (bench/batching.py: 0.59x), so on a CPU the engine keeps its per-structure
    outcomes and lockstep but packs nothing, and workers do not group tasks."""
    return env_int("BATCH_MAX_STRUCTURES", 256 if device.type == "cuda" else 1)


def estimated_cost(family: str, n_atoms: int) -> int:
    """Bytes one structure of ``n_atoms`` will take in a pass, before its graph is built."""
    return n_atoms * (BYTES_PER_ATOM + EDGES_PER_ATOM_ESTIMATE * BYTES_PER_EDGE[family])


def pack(costs: list[int], budget: int, max_batch: int) -> list[list[int]]:
    """Greedy packs of consecutive indices: each under ``budget`` bytes and ``max_batch`` structures.

    A structure larger than the budget on its own gets a pack of its own (it may still fit)."""
    packs: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i, cost in enumerate(costs):
        if current and (used + cost > budget or len(current) >= max_batch):
            packs.append(current)
            current, used = [], 0
        current.append(i)
        used += cost
    if current:
        packs.append(current)
    return packs


class BatchedEngine:
    """Energies, forces and stresses of many structures through one model, a pack per forward pass."""

    name = "batched"

    def __init__(self, adapter, memory_budget: int | None = None, max_batch: int | None = None):
        self.adapter = adapter
        self.memory_budget = memory_budget or memory_budget_bytes(adapter.device)
        self.max_batch = max_batch or max_structures(adapter.device)
        self.counters = Counters()

    @property
    def family(self) -> str:
        return self.adapter.family

    @property
    def device(self) -> str:
        return str(self.adapter.device)

    def cost(self, n_atoms: int, n_edges: int) -> int:
        return n_atoms * BYTES_PER_ATOM + n_edges * BYTES_PER_EDGE[self.family]

    def describe(self) -> dict:
        return {
            "engine": self.name,
            "family": self.family,
            "device": self.device,
            "memory_budget_mb": round(self.memory_budget / 2**20, 1),
            "max_batch": self.max_batch,
        }

    def evaluate(self, structures, check=None) -> list[Outcome]:
        """One ``Outcome`` per structure, in order. ``check()`` runs before every pass (cancel, lease)."""
        outcomes: list[Outcome | None] = [None] * len(structures)
        graphs, costs, todo = {}, [], []
        for i, atoms in enumerate(structures):
            try:
                graph, n_edges = self.adapter.graph(atoms)
            except Exception as exc:  # noqa: BLE001 - that structure's failure, not the batch's
                outcomes[i] = Outcome(error=f"{type(exc).__name__}: {exc}")
                continue
            graphs[i] = graph
            todo.append(i)
            costs.append(self.cost(len(atoms), n_edges))
        for indices in pack(costs, self.memory_budget, self.max_batch):
            if check is not None:
                check()
            self._run([todo[k] for k in indices], graphs, structures, outcomes)
        return [o if o is not None else Outcome(error="not evaluated") for o in outcomes]

    def _run(self, idx: list[int], graphs: dict, structures, outcomes: list) -> None:
        started = time.perf_counter()
        try:
            energies, forces, stresses = self.adapter.forward([graphs[i] for i in idx])
        except torch.cuda.OutOfMemoryError as exc:
            if len(idx) == 1:
                outcomes[idx[0]] = Outcome(error=f"out of memory on {self.device}: {exc}")
                return
            self.max_batch = max(1, len(idx) // 2)
            half = len(idx) // 2
            self._run(idx[:half], graphs, structures, outcomes)
            self._run(idx[half:], graphs, structures, outcomes)
            return
        counters = self.counters
        counters.seconds += time.perf_counter() - started
        counters.passes += 1
        counters.structures += len(idx)
        counters.largest_pack = max(counters.largest_pack, len(idx))
        offset = 0
        for k, i in enumerate(idx):
            n = len(structures[i])
            f = forces[offset : offset + n]
            offset += n
            counters.atoms += n
            energy = float(energies[k])
            if not (np.isfinite(energy) and np.isfinite(f).all()):
                outcomes[i] = Outcome(energy=energy, error=f"non-finite energy or forces (E = {energy})")
            else:
                outcomes[i] = Outcome(energy=energy, forces=np.array(f), stress=_stress(structures[i], stresses[k]))


def _stress(atoms, stress) -> np.ndarray | None:
    """The structure's stress, or None when it has no 3D cell (an isolated molecule): the models
    divide its virial by a zero volume (SevenNet by machine epsilon: ~1e15 eV/Å³), a number no caller
    may use."""
    return np.array(stress) if atoms.cell.rank == 3 else None


def engine_for(calculator, **kwargs) -> BatchedEngine | None:
    """A batched engine sharing ``calculator``'s loaded model, or None if it has no batched path."""
    if calculator is None:
        return None
    try:
        return BatchedEngine(adapter_for(calculator), **kwargs)
    except Unsupported:
        return None
