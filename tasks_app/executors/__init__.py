"""Executor registry: task kind → executor function and its parameter serializer.

Both are named by dotted path and imported lazily, so the web process never imports ASE
dynamics or torch just to list task types.
"""

from dataclasses import dataclass
from importlib import import_module


@dataclass(frozen=True)
class ExecutorEntry:
    kind: str
    label: str
    run: str  # dotted path of run(atoms, calculator, params, report)
    params: str  # dotted path of the DRF serializer validating params
    needs_structure: bool = True
    needs_model: bool = True

    def load_run(self):
        return _load(self.run)

    def load_params(self):
        return _load(self.params)


def _load(dotted: str):
    module, _, attr = dotted.rpartition(".")
    return getattr(import_module(module), attr)


REGISTRY: dict[str, ExecutorEntry] = {}


def register(entry: ExecutorEntry) -> None:
    REGISTRY[entry.kind] = entry


def get(kind: str) -> ExecutorEntry:
    return REGISTRY[kind]


register(
    ExecutorEntry(
        "single_point", "Single point", "tasks_app.executors.single_point.run", "tasks_app.params.SinglePointParams"
    )
)
register(
    ExecutorEntry(
        "optimization",
        "Structure optimization",
        "tasks_app.executors.optimization.run",
        "tasks_app.params.OptimizationParams",
    )
)
register(
    ExecutorEntry("stability", "MD stability", "tasks_app.executors.stability.run", "tasks_app.params.StabilityParams")
)
register(
    ExecutorEntry(
        "bulk_modulus", "Bulk modulus", "tasks_app.executors.bulk_modulus.run", "tasks_app.params.BulkModulusParams"
    )
)
register(
    ExecutorEntry(
        "heat_capacity",
        "Heat capacity",
        "tasks_app.executors.heat_capacity.run",
        "tasks_app.params.HeatCapacityParams",
    )
)
register(
    ExecutorEntry(
        "interaction_energy",
        "Host–guest interaction energy",
        "tasks_app.executors.interaction_energy.run",
        "tasks_app.params.InteractionEnergyParams",
    )
)
register(
    ExecutorEntry(
        "train_dms",
        "Train DMS fitness model",
        "tasks_app.training.jobs.run_train_dms",
        "tasks_app.training.params.TrainDMSParams",
        needs_structure=False,
        needs_model=False,
    )
)
register(
    ExecutorEntry(
        "train_mace",
        "Train / fine-tune MACE",
        "tasks_app.training.jobs.run_train_mace",
        "tasks_app.training.params.TrainMACEParams",
        needs_structure=False,
        needs_model=False,
    )
)
