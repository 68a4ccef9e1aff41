"""``manage.py enqueue_benchmark <kind>``: start a benchmark run from the command line.

Examples::

    manage.py enqueue_benchmark optimization --set essential --model sevennet-0 --preset quick
    manage.py enqueue_benchmark optimization --structures MOF-5_primitive,calf --sync
    manage.py enqueue_benchmark bulk_modulus --set main_set --priority HIGH --wait --timeout 7200

Before it submits, it prints one ``estimate:`` line: how long the run would take and how many
tasks are ahead of it (``tasks_app.eta``, which says what the number came from).

Modes: without ``--wait``/``--sync`` it creates the run and its queued tasks and returns (the
workers do the rest). ``--wait`` follows the workers with a progress bar (tasks done / total
and the running task's step), then prints the results table and the summary. ``--sync`` runs
every task in this process, one after another, through the same claim and state machine as a
worker (for machines with no workers); tasks a worker claimed first are left to it.

User: ``--user`` (or ``--owner``) names an existing account. Without it the run belongs to the
person who ran the command when an account has their login name (``getpass.getuser()``), so
their runs show up on their pages; otherwise to a local system account ``mofsim`` (created on
first use, unusable password, neither staff nor superuser), so command-line runs never borrow
an administrator's identity.

Exit status: 0 when the run was enqueued (no wait), or when every task COMPLETED; 1 when any
task ended FAILED, TIMEOUT or CANCELLED (the table is printed first, failed rows show their
status and the errors are listed); 2 when ``--timeout`` ran out before all tasks finished
(tasks keep running on the workers). A benchmark with a failed structure is not a success a
script should silently accept.
"""

import getpass
import json
import sys
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from rest_framework.exceptions import ValidationError
from tqdm import tqdm

from models_app.models import MLModel
from tasks_app.benchmarks import collect, table
from tasks_app.benchmarks.services import (
    create_benchmark_run,
    estimate_benchmark_run,
    resolve_set,
    resolve_structure_names,
)
from tasks_app.choices import TERMINAL, Priority, TaskStatus
from tasks_app.inline import run_task_inline
from tasks_app.params import PRESET_CHOICES
from tasks_app.state import IllegalTransition

SYSTEM_USER = "mofsim"
POLL_S = 0.5


def flatten(detail) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{key}: {flatten(value)}" for key, value in detail.items())
    if isinstance(detail, list):
        return "; ".join(flatten(d) for d in detail)
    return str(detail)


class Command(BaseCommand):
    help = "Create a benchmark run (one task per structure); optionally wait for it or run it here (--sync)."

    def add_arguments(self, parser):
        parser.add_argument("kind", help="task type, e.g. optimization, bulk_modulus, heat_capacity, stability")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--set", dest="set", help="structure set slug: essential, main_set, hcmof, copper, or yours")
        which.add_argument("--structures", help="comma-separated structure names (yours first, then built-ins)")
        parser.add_argument("--model", help="registered model name (default: the default model, sevennet-0)")
        parser.add_argument("--preset", choices=PRESET_CHOICES, default="protocol")
        parser.add_argument("--params", default="{}", help="JSON overrides, e.g. '{\"fmax\": 0.05}'")
        parser.add_argument("--priority", default="NORMAL", type=str.upper, choices=Priority.names)
        parser.add_argument(
            "--user",
            "--owner",
            dest="user",
            help=f"owner username (default: your login name if it has an account, else {SYSTEM_USER!r})",
        )
        parser.add_argument("--name", default="", help="a label for the run")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--wait", action="store_true", help="wait for the workers, then print the report")
        mode.add_argument("--sync", action="store_true", help="run every task in this process, then print the report")
        parser.add_argument("--timeout", type=float, help="seconds to wait in total (--wait; --sync between tasks)")

    def handle(self, *args, **opts):
        user = self.get_user(opts["user"])
        model = self.get_model(opts["model"])
        try:
            params = json.loads(opts["params"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--params is not valid JSON: {exc.msg}")
        try:
            if opts["set"]:
                structure_set, structures = resolve_set(user, opts["set"]), None
            else:
                names = [n.strip() for n in opts["structures"].split(",") if n.strip()]
                structure_set, structures = None, resolve_structure_names(user, names)
            plan = {"owner": user, "kind": opts["kind"], "model": model, "structure_set": structure_set,
                    "structures": structures, "preset": opts["preset"], "params": params}  # fmt: skip
            priority = Priority[opts["priority"]].value
            self.stdout.write(f"estimate: {estimate_benchmark_run(priority=priority, **plan).text}")
            run = create_benchmark_run(**plan, priority=priority, name=opts["name"])
        except ValidationError as exc:
            raise CommandError(flatten(exc.detail))
        total = run.tasks.count()
        self.stdout.write(f"benchmark run {run.pk}: {run} — {total} task(s), owner {user.get_username()}")
        if not (opts["wait"] or opts["sync"]):
            return
        deadline = time.monotonic() + opts["timeout"] if opts["timeout"] else None
        finished = self.run_sync(run, deadline) if opts["sync"] else self.wait(run, deadline)
        self.print_report(run)
        if not finished:
            raise CommandError(
                f"timed out after {opts['timeout']} s; the unfinished tasks stay queued/running", returncode=2
            )
        failed = run.tasks.exclude(status=TaskStatus.COMPLETED).count()
        if failed:
            raise CommandError(f"{failed} of {total} task(s) did not complete", returncode=1)

    def get_user(self, username):
        User = get_user_model()
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"no user {username!r}")
            return user
        invoking = User.objects.filter(username=getpass.getuser(), is_active=True).first()
        if invoking is not None:
            return invoking
        user, created = User.objects.get_or_create(username=SYSTEM_USER)
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user

    def get_model(self, name):
        qs = MLModel.objects.filter(enabled=True)
        model = qs.filter(name=name).first() if name else qs.filter(is_default=True).first()
        if model is None:
            known = ", ".join(qs.values_list("name", flat=True))
            raise CommandError(f"no enabled model {name or '(default)'!r}; registered: {known}")
        return model

    def run_sync(self, run, deadline) -> bool:
        tasks = collect.ordered_tasks(run)
        with tqdm(total=len(tasks), unit="task", file=sys.stderr, dynamic_ncols=True) as bar:
            for task in tasks:
                if deadline is not None and time.monotonic() > deadline:
                    return False
                bar.set_postfix_str(task.structure.name if task.structure else "")
                try:
                    run_task_inline(task)
                except IllegalTransition as exc:
                    bar.write(f"{task.structure}: already {exc.current} (taken by a worker or cancelled); skipped")
                bar.update(1)
        return self.wait(run, deadline, quiet=True)

    def wait(self, run, deadline, quiet: bool = False) -> bool:
        """Poll the database until every task is terminal; False if the deadline passed first."""
        total = run.tasks.count()
        with tqdm(total=total, unit="task", file=sys.stderr, dynamic_ncols=True, disable=quiet) as bar:
            while True:
                done = run.tasks.filter(status__in=TERMINAL).count()
                bar.n = done
                current = (
                    run.tasks.filter(status=TaskStatus.RUNNING)
                    .select_related("structure")
                    .only("structure__name", "progress_step", "progress_total")
                    .first()
                )
                if current is not None:
                    of = f"/{current.progress_total}" if current.progress_total else ""
                    bar.set_postfix_str(f"{current.structure.name} step {current.progress_step}{of}", refresh=False)
                bar.refresh()
                if done >= total:
                    return True
                if deadline is not None and time.monotonic() > deadline:
                    return False
                time.sleep(POLL_S)

    def print_report(self, run):
        data = collect.build_report(run)
        columns = table.columns_for(run.kind, data["rows"])
        self.stdout.write("")
        self.stdout.write(table.text_table(data["rows"], columns))
        self.stdout.write("")
        for label, text in data["summary_items"]:
            self.stdout.write(f"{label}: {text}")
        for row in data["rows"]:
            if row["status"] != TaskStatus.COMPLETED:
                self.stderr.write(f"{row['structure']}: {row['status']} {row['error']}".rstrip())
