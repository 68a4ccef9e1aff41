"""Running a claimed group of compatible tasks through one batched pass (issue 13, docs/batching.md).

Each member stays a task of its own: it moves ASSIGNED → RUNNING under its own lease, has its own
``TaskReporter`` (log, progress, files in its own attempt folder) and records its own final state
through the runner's ``_compute`` / ``_finish`` — the same exception-to-state mapping, fencing
and retries as a task run alone. (The first member arrives RUNNING: the worker's claim started
it; its companions were claimed ASSIGNED.) Only the model pass is shared:

1. the pass: the model is loaded once, every member's structure goes into the kind's ``compute``
   (``executors.grouped``), which gives one item per member — e.g. its ``Outcome``: energy, forces
   and stress, or that structure's own error;
2. per member, ``_compute`` runs the kind's ``finish`` with the member's item in place of its
   executor, so a structure that exploded or could not be evaluated fails only its task, and a
   member that was cancelled (or lost its lease, or ran out of time) while the pass ran stops
   alone at its own ``reporter.check()`` while the others record their results.

If the pass cannot be set up (the model has no batched path after all, loading fails) every
member runs one at a time on its normal executor, so nothing is lost to the grouping. The
process's lease keeper (``tasks_app.leases``) renews every member's lease, as for a task run
alone; each member's ``Holding`` carries the flag its reporter reads.
"""

import logging
import time
from dataclasses import dataclass
from functools import partial

from dramatiq.middleware.time_limit import TimeLimitExceeded

from models_app import cache
from models_app.batched import engine_for
from models_app.devices import pick_device
from mofsim_site.executors import TaskCancelled
from tasks_app.choices import TaskStatus
from tasks_app.executors.grouped import GROUPED
from tasks_app.inputs import ensure_local_model
from tasks_app.leases import Holding, keeper
from tasks_app.models import Task
from tasks_app.params import run_params
from tasks_app.runner import (
    TaskReporter,
    TaskTimeLimit,
    _compute,
    _finish,
    _refresh,
    artifacts_dir,
    load_structure,
)
from tasks_app.speed import FORCE_EVALUATIONS, batched_counts
from tasks_app.state import IllegalTransition, Lease, LeaseLost, transition

logger = logging.getLogger(__name__)
S = TaskStatus


@dataclass
class Member:
    task: Task
    lease: Lease
    flag: Holding  # the process's lease keeper sets its ``lost``
    reporter: TaskReporter


def execute_group(tasks: list[Task], device: str | None = None) -> list[Task]:
    """Run the claimed (ASSIGNED) ``tasks`` — one kind, one model — with one batched pass.

    Returns the tasks as recorded (or as the row says, when a member's end was decided elsewhere).
    Task failures become states, never raise."""
    device = device or pick_device()
    members = _start(tasks, device)
    done: list[Task] = []
    try:
        items, record = _pass(members, device)
        for member, item in zip(members, items, strict=True):
            done.append(_record(member, item, record, device))
            keeper().release(member.flag)
    finally:
        for member in members:
            keeper().release(member.flag)
            member.reporter.close()
    return done


def _start(tasks: list[Task], device: str) -> list[Member]:
    members = []
    for task in tasks:
        lease = Lease.of(task)
        if task.status == S.ASSIGNED:  # a companion (the first member's claim started it)
            try:
                transition(task, S.RUNNING, only_from=S.ASSIGNED, lease=lease,
                           message=f"on {device}, one of {len(tasks)} tasks claimed for one batched pass")  # fmt: skip
            except IllegalTransition:
                continue  # cancelled or failed over between claim and start
        flag = keeper().hold(lease)
        members.append(Member(task, lease, flag, TaskReporter(task, artifacts_dir(task), lease, flag)))
    return members


class _Replay:
    """A failure of the whole pass, handed to each member so its own ``_compute`` records it."""

    def __init__(self, exc: BaseException):
        self.exc = exc

    def __call__(self, atoms, calculator, params, report):
        raise self.exc


def _pass(members: list[Member], device: str) -> tuple[list, dict | None]:
    """The shared pass: one item per member (None: that member runs one at a time), and the
    record every member's provenance gets (None when there was no batched pass)."""
    if not members:
        return [], None
    first = members[0].task
    grouped = GROUPED[first.kind]
    try:
        model = first.model
        assert model is not None, "a grouped kind needs a model"
        calc = cache.get_calculator(ensure_local_model(model.spec()), device, d3=False)
        engine = engine_for(calc)
    except Exception:  # noqa: BLE001 - each member then meets (and records) the failure on its own
        logger.exception("could not set up the batched pass for %s tasks; running them one at a time", len(members))
        return [None] * len(members), None
    if engine is None:
        for member in members:
            member.reporter.log(f"engine: ase ({type(calc).__name__} has no batched path)")
        return [None] * len(members), None
    jobs, index = [], []
    for i, member in enumerate(members):
        task = member.task
        try:
            atoms = load_structure(task)
            reference = task.structure.reference if task.structure is not None else None
            params = run_params(task.kind, task.params, reference)
        except Exception:  # noqa: BLE001 - this member runs alone and records its own failure
            logger.warning("task %s: its input could not be prepared for the batched pass", task.pk, exc_info=True)
            continue
        jobs.append((atoms, params, member.reporter))
        index.append(i)
    for _atoms, _params, reporter in jobs:
        reporter.log(f"engine: batched on {engine.device}, {len(jobs)} tasks in one pass")
    started = time.perf_counter()
    try:
        results = grouped.compute(engine, jobs, partial(_check_group, members))
    except (Exception, TimeLimitExceeded) as exc:  # noqa: BLE001 - recorded per member
        results = [_Replay(exc)] * len(jobs)
    wall = time.perf_counter() - started
    items: list = [None] * len(members)
    for k, i in enumerate(index):
        items[i] = results[k]
    record = {
        "engine": "batched",
        "batch_size": len(jobs),
        "batch_device": engine.device,
        "batch_wall_time_s": wall,
        "batch_forward_passes": engine.counters.passes,
        "batch_tasks_per_s": len(jobs) / wall if wall > 0 else None,
    }
    return items, record


def _check_group(members: list[Member]) -> None:
    """Before each forward pass: go on while any member still wants its result.

    A member that was cancelled, lost its lease or ran out of time is not stopped here (the pass
    is shared); its own ``reporter.check()`` in ``_record`` stops it alone. When every member is
    gone, the pass itself stops."""
    stopped: list[BaseException] = []
    for member in members:
        try:
            member.reporter.check()
        except (TaskCancelled, LeaseLost, TaskTimeLimit) as exc:
            stopped.append(exc)
    if stopped and len(stopped) == len(members):
        raise stopped[0]


def _record(member: Member, item, record: dict | None, device: str) -> Task:
    """The member's share: its executor's finish on its item (or its normal executor), then its
    final state, exactly as ``runner.execute_task`` records a task run alone."""
    task = member.task
    if item is None:
        run = None
    elif isinstance(item, _Replay):
        run = item
    else:
        run = partial(GROUPED[task.kind].finish, item=item)
    target, fields = _compute(task, member.reporter, device, run=run)
    if target == S.COMPLETED and record is not None and item is not None:
        n_atoms = task.structure.n_atoms if task.structure is not None else 0
        evaluations = GROUPED[task.kind].evaluations(item)
        atom_steps = _atom_steps(fields["result"], evaluations, n_atoms)
        _add_pass(fields["result"]["provenance"], record, evaluations, atom_steps)
    recorded = _finish(task, member.lease, member.reporter, target, fields)
    return task if recorded else _refresh(task)


def _atom_steps(result: dict, evaluations: int, n_atoms: int) -> int:
    """The member's atoms·evaluations: its engine record's count when it has one for these
    evaluations (its structures need not be the task's own: an interaction energy's complex,
    host and guest, a heat capacity's supercells), else every evaluation on the task's structure."""
    engine_evaluations, engine_atom_steps = batched_counts(result)
    return engine_atom_steps if engine_evaluations == evaluations and engine_atom_steps else evaluations * n_atoms


def _add_pass(provenance: dict, record: dict, evaluations: int, atom_steps: int) -> None:
    """The pass's record, and the member's speed record (``tasks_app.speed``) counted from the
    pass's start: its force evaluations happened inside the shared pass, which neither the
    calculator hook nor the runner's clock (it timed only the member's own share after it) saw."""
    wall = provenance["wall_time_s"] + record["batch_wall_time_s"]
    run = (provenance.get("run_time_s") or 0.0) + record["batch_wall_time_s"]
    provenance.update(
        record,
        wall_time_s=wall,
        run_time_s=run,
        steps=evaluations,
        step_unit=FORCE_EVALUATIONS,
        atom_steps=atom_steps,
        steps_per_s=evaluations / run if run > 0 else None,
        atom_steps_per_s=atom_steps / run if run > 0 and atom_steps else None,
    )
