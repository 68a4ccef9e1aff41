"""Which engine an executor uses, and the speed record it adds to its result.

``params["engine"]`` is ``"batched"`` (default) or ``"ase"`` (the reference path). Batched runs
only when the model family has a batched path (``models_app.batched.engine_for``); otherwise
the executor falls back to the ASE calculator and says so in the log and in the result.
"""

import time

from models_app.batched import BatchedEngine, engine_for


def choose_engine(calculator, params: dict, report) -> BatchedEngine | None:
    if params.get("engine", "ase") != "batched":
        return None
    engine = engine_for(calculator)
    if engine is None:
        report.log(f"engine: ase ({type(calculator).__name__} has no batched path)")
    else:
        report.log(f"engine: batched on {engine.device}, memory budget {engine.describe()['memory_budget_mb']} MB")
    return engine


class SpeedMeter:
    """Counts force evaluations (steps) and atoms·steps of a stage, and their wall time."""

    def __init__(self, engine: BatchedEngine | None, calculator):
        self.engine = engine
        self.device = engine.device if engine is not None else str(getattr(calculator, "device", "cpu"))
        self.steps = 0
        self.atom_steps = 0
        self.started = time.perf_counter()

    def add(self, n_atoms: int, count: int = 1) -> None:
        self.steps += count
        self.atom_steps += n_atoms * count

    def record(self) -> dict:
        wall = time.perf_counter() - self.started
        out = {
            "engine": "batched" if self.engine is not None else "ase",
            "device": self.device,
            "force_evaluations": self.steps,
            "atom_steps": self.atom_steps,
            "wall_time_s": wall,
            "steps_per_s": self.steps / wall if wall > 0 else None,
            "atom_steps_per_s": self.atom_steps / wall if wall > 0 else None,
        }
        if self.engine is not None:
            out.update(self.engine.describe(), forward_passes=self.engine.counters.passes,
                       largest_pack=self.engine.counters.largest_pack)  # fmt: skip
        return out
