"""Batched execution: many structures through one forward pass of the model (docs/batching.md).

SevenNet and MACE train on batched graphs, so their models evaluate a disjoint union of
structures in one call. ``engine_for(calculator)`` returns a ``BatchedEngine`` sharing the
calculator's already loaded model (same weights, device and dtype, so the model cache and
affinity still hold), or ``None`` when the calculator cannot be batched (EMT, D3 sums,
committees, compiled MACE): callers then keep the ASE path.

The engine's API serves executors inside one task and the across-task pass of several tasks
(``tasks_app.group_run``) alike: a list of ``ase.Atoms`` in, one ``Outcome`` per structure out
(energy, forces, stress, or that structure's own error).
"""

from models_app.batched.engine import BatchedEngine, Outcome, engine_for

__all__ = ["BatchedEngine", "Outcome", "engine_for"]
