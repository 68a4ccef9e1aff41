"""Many MD runs in lockstep: ASE's own dynamics object per structure, force calls batched.

Each structure keeps its own ASE ``MolecularDynamics`` object (``Langevin`` with its own RNG,
``IsotropicMTKNPT`` with its own thermostat and barostat chains), so the integrator, the random
numbers and the cell moves are exactly ASE's; only the force calls are gathered. The integrators
ask for forces in the middle of ``step()`` (velocity Verlet: half kick, drift, *forces*, half
kick), so a step cannot be split from outside without rewriting ASE. Instead every structure
steps in a thread of its own whose calculator hands its atoms to this loop and waits: once every
running structure is waiting (or done with its step), their atoms go through one batched pass
and each gets its results back. The threads only run ASE's numpy step code; the model pass,
the observers (trajectory, progress, database writes) and ``check()`` run in the caller's thread.

The loop is ``ase.md.md.MolecularDynamics.irun`` unrolled over the set (forces, observe; then
step, forces, observe per step), so a structure takes the same trajectory as alone, up to the
float round-off of the batched pass. A structure whose evaluation fails, or whose ``observe``
raises (the explosion guard, its task cancelled), stops alone; the others go on.
"""

import queue
import threading

from ase.calculators.calculator import Calculator, all_changes

from models_app.batched.relax import BatchedResults

_STEP, _QUIT = "step", None
_REQUEST, _DONE, _FAILED = "request", "done", "failed"
PROPERTIES = ["energy", "forces", "stress"]


class EvaluationFailed(RuntimeError):
    """The batched pass gave this structure an error (non-finite forces, unknown element, memory)."""


class _Stopped(BaseException):
    """Sent into a stepping thread to end it while it waits for forces (the whole run is stopping)."""


class _Stepper(threading.Thread):
    """Runs one structure's ``dyn.step()`` on demand; its force calls wait for the batched pass."""

    def __init__(self, index: int, dyn, outbox: queue.SimpleQueue):
        super().__init__(name=f"md-lockstep-{index}", daemon=True)
        self.index, self.dyn, self.outbox = index, dyn, outbox
        self.commands: queue.SimpleQueue = queue.SimpleQueue()
        self.replies: queue.SimpleQueue = queue.SimpleQueue()

    def run(self) -> None:
        while self.commands.get() is not _QUIT:
            try:
                self.dyn.step()
            except _Stopped:
                return
            except Exception as exc:  # noqa: BLE001 - this structure's failure, reported to the loop
                self.outbox.put((self.index, _FAILED, exc))
                return
            self.outbox.put((self.index, _DONE, None))

    def request(self, atoms):
        """From inside ``step()``: hand ``atoms`` to the loop, wait for their ``Outcome``."""
        self.outbox.put((self.index, _REQUEST, atoms))
        reply = self.replies.get()
        if reply is _QUIT:
            raise _Stopped()
        return reply


class LockstepResults(BatchedResults):
    """The calculator of one structure in lockstep: inside its stepping thread a force call waits
    for the batched pass; elsewhere (observers reading a result not cached) it evaluates alone."""

    def __init__(self, engine):
        super().__init__(engine)
        self.stepper: _Stepper | None = None

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        if self.stepper is None or threading.current_thread() is not self.stepper:
            return super().calculate(atoms, properties, system_changes)
        Calculator.calculate(self, atoms, properties, system_changes)
        outcome = self.stepper.request(self.atoms)
        if not outcome.ok:
            raise EvaluationFailed(outcome.error)
        self.put(self.atoms, outcome)
        return None


def attach_lockstep(engine, atoms) -> None:
    """Give ``atoms`` a lockstep calculator, keeping the results it already has for its positions
    (a stage that follows another starts from the last step's forces, as in the ASE path)."""
    previous = atoms.calc
    if isinstance(previous, LockstepResults):
        return
    calc = LockstepResults(engine)
    if previous is not None and not previous.calculation_required(atoms, PROPERTIES):
        calc.atoms, calc.results = atoms.copy(), dict(previous.results)
    atoms.calc = calc


def run_many(engine, dynamics: list, steps: int, *, observe=None, check=None) -> list[BaseException | None]:
    """Step every ASE MD object in ``dynamics`` ``steps`` times in lockstep; one error per run.

    ``observe(i)`` runs after every evaluation of run i (its step 0 and every step after, as ASE's
    observers do; ``dynamics[i].nsteps`` tells which); an exception from it stops run i alone and is
    that run's error. ``check()`` runs before every batched pass (cancel, lease, time limit of the
    whole pass). A run whose evaluation fails gets ``EvaluationFailed``. The atoms' calculators
    must be ``LockstepResults`` (``attach_lockstep``); they keep the last results afterwards.
    """
    errors: list[BaseException | None] = [None] * len(dynamics)
    outbox: queue.SimpleQueue = queue.SimpleQueue()
    steppers = [_Stepper(i, dyn, outbox) for i, dyn in enumerate(dynamics)]
    for dyn, stepper in zip(dynamics, steppers, strict=True):
        dyn.atoms.calc.stepper = stepper
        dyn.max_steps = dyn.nsteps + steps

    def observed(indices) -> list[int]:
        alive = []
        for i in indices:
            try:
                if observe is not None:
                    observe(i)
            except Exception as exc:  # noqa: BLE001 - the observer's verdict is this run's error
                errors[i] = exc
                continue
            alive.append(i)
        return alive

    waiting: set[int] = set()
    try:
        # Step 0: forces at the start (cached when a previous stage ended at these positions).
        first = [i for i, dyn in enumerate(dynamics) if dyn.atoms.calc.calculation_required(dyn.atoms, PROPERTIES)]
        outcomes = engine.evaluate([dynamics[i].atoms for i in first], check) if first else []
        for i, outcome in zip(first, outcomes, strict=True):
            if outcome.ok:
                dynamics[i].atoms.calc.put(dynamics[i].atoms, outcome)
            else:
                errors[i] = EvaluationFailed(outcome.error)
        running = observed([i for i in range(len(dynamics)) if errors[i] is None])
        for stepper in steppers:
            stepper.start()
        for _ in range(steps):
            if not running:
                break
            for i in running:
                steppers[i].commands.put(_STEP)
            waiting = set(running)
            stepped = _serve(engine, steppers, outbox, waiting, errors, check)
            for i in stepped:
                dynamics[i].nsteps += 1
            running = observed(stepped)
    finally:
        for i in waiting:  # stopped mid-step (check() raised): release the threads still waiting
            steppers[i].replies.put(_QUIT)
        for stepper in steppers:
            stepper.commands.put(_QUIT)
        for dyn in dynamics:
            dyn.atoms.calc.stepper = None
    return errors


def _serve(engine, steppers, outbox, waiting: set[int], errors: list, check) -> list[int]:
    """Serve the force calls of one step of every run in ``waiting`` until each has stepped or
    failed: a batched pass whenever every unfinished run is waiting for forces. Returns the runs
    that completed their step, in order; ``waiting`` shrinks as runs finish."""
    done: list[int] = []
    requests: dict[int, object] = {}
    while waiting:
        index, what, payload = outbox.get()
        if what == _REQUEST:
            requests[index] = payload
        else:
            waiting.discard(index)
            if what == _DONE:
                done.append(index)
            else:
                errors[index] = payload
        if requests and len(requests) == len(waiting):
            order = sorted(requests)
            outcomes = engine.evaluate([requests[i] for i in order], check)
            requests.clear()
            for i, outcome in zip(order, outcomes, strict=True):
                steppers[i].replies.put(outcome)
    return sorted(done)
