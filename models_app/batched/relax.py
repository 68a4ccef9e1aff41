"""Many relaxations in lockstep: ASE's own optimizer and cell filter per structure, forces batched.

Each structure keeps its own ASE optimizer (FIRE, BFGS, …) on its own filter (e.g.
``FrechetCellFilter``), so the step rule, the cell degrees of freedom and the convergence test
are exactly ASE's; only the force calls are gathered: every round, all structures still running
are evaluated in one batched pass, their results are handed to their atoms, and each optimizer
takes its step. The loop is ``ase.optimize.Dynamics.irun`` unrolled over the set (evaluate, observe,
converged?, step), so a structure takes the same steps as alone, up to float round-off. Each
structure converges, runs out of steps or fails (non-finite forces, ``guard`` raising) on its own.
"""

from ase.calculators.calculator import Calculator, all_changes


class BatchedResults(Calculator):
    """Holds the results of the last batched pass for one structure; evaluates alone if moved since."""

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, engine):
        super().__init__()
        self.engine = engine

    def put(self, atoms, outcome) -> None:
        self.atoms = atoms.copy()
        self.results = {"energy": outcome.energy, "free_energy": outcome.energy, "forces": outcome.forces,
                        "stress": outcome.stress}  # fmt: skip

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        (outcome,) = self.engine.evaluate([self.atoms])
        if not outcome.ok:
            raise RuntimeError(outcome.error)
        self.put(self.atoms, outcome)


def relax_many(engine, structures, *, optimizer_cls, filter_cls=None, fmax=0.05, steps=1000, guard=None,
               check=None, observe=None) -> list[dict]:  # fmt: skip
    """Relax every ``ase.Atoms`` in ``structures`` in place; one summary dict per structure.

    ``guard(energy, where)`` may raise to fail that structure (the explosion guard);
    ``observe(i, atoms, nsteps, energy, fmax_now)`` runs after every evaluation of structure i
    (returning ``False`` stops that structure alone: its caller knows why, e.g. its task was cancelled);
    ``check()`` runs before every batched pass. A summary has ``converged``, ``steps``,
    ``initial_energy_ev``, ``final_energy_ev``, ``final_fmax_ev_per_a`` and ``error`` (None if fine).
    """
    runs = []
    for atoms in structures:
        atoms.calc = BatchedResults(engine)
        target = filter_cls(atoms) if filter_cls else atoms
        opt = optimizer_cls(target, logfile=None)
        opt.fmax, opt.max_steps = fmax, steps
        runs.append((atoms, target, opt))
    summaries = [{"converged": False, "steps": 0, "initial_energy_ev": None, "final_energy_ev": None,
                  "final_fmax_ev_per_a": None, "error": None} for _ in structures]  # fmt: skip

    def evaluate(active: list[int]) -> list[int]:
        outcomes = engine.evaluate([structures[i] for i in active], check)
        alive = []
        for i, outcome in zip(active, outcomes, strict=True):
            atoms, target, opt = runs[i]
            summary = summaries[i]
            if not outcome.ok:
                summary["error"] = f"{outcome.error} at step {opt.nsteps}"
                continue
            atoms.calc.put(atoms, outcome)
            try:
                if guard is not None:
                    guard(outcome.energy, f" at step {opt.nsteps}")
            except Exception as exc:  # noqa: BLE001 - the guard's verdict is this structure's error
                summary["error"] = str(exc)
                continue
            fmax_now = float(((target.get_forces() ** 2).sum(axis=1) ** 0.5).max()) if len(atoms) else 0.0
            if summary["initial_energy_ev"] is None:
                summary["initial_energy_ev"] = outcome.energy
            summary.update(steps=int(opt.nsteps), final_energy_ev=outcome.energy, final_fmax_ev_per_a=fmax_now)
            if observe is not None and observe(i, atoms, opt.nsteps, outcome.energy, fmax_now) is False:
                continue
            alive.append(i)
        return alive

    active = evaluate(list(range(len(structures))))
    while active:
        running = []
        for i in active:
            _atoms, _target, opt = runs[i]
            if opt.converged():
                summaries[i]["converged"] = True
            elif opt.nsteps < steps:
                running.append(i)
        for i in running:
            opt = runs[i][2]
            opt.step()
            opt.nsteps += 1
        active = evaluate(running) if running else []
    return summaries
