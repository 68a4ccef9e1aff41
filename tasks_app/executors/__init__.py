"""The six MOFSimBench task kinds, registered with the executor registry from ``TasksAppConfig.ready``.

The registry and the executor contract are shared plumbing (``mofsim_site.executors``); each
app registers the kinds it brings, so the task core never names a feature's kinds.
"""

from mofsim_site.executors import ExecutorEntry, register

KINDS = (
    ExecutorEntry("single_point", "Single point", "tasks_app.executors.single_point.run",
                  "tasks_app.params.SinglePointParams"),
    ExecutorEntry("optimization", "Structure optimization", "tasks_app.executors.optimization.run",
                  "tasks_app.params.OptimizationParams"),
    ExecutorEntry("stability", "MD stability", "tasks_app.executors.stability.run",
                  "tasks_app.params.StabilityParams"),
    ExecutorEntry("bulk_modulus", "Bulk modulus", "tasks_app.executors.bulk_modulus.run",
                  "tasks_app.params.BulkModulusParams"),
    ExecutorEntry("heat_capacity", "Heat capacity", "tasks_app.executors.heat_capacity.run",
                  "tasks_app.params.HeatCapacityParams"),
    ExecutorEntry("interaction_energy", "Host–guest interaction energy", "tasks_app.executors.interaction_energy.run",
                  "tasks_app.params.InteractionEnergyParams"),
)  # fmt: skip


def register_kinds() -> None:
    for entry in KINDS:
        register(entry)
