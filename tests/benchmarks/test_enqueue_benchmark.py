"""``manage.py enqueue_benchmark``: --sync in this process, --wait on a real worker, exit codes."""

import io

import pytest
from ase.build import bulk
from ase.io import write
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tasks_app.models import BenchmarkRun

BASE = ["--model", "emt", "--preset", "quick", "--user", "owner"]


def run_command(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("enqueue_benchmark", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def row_of(output: str, name: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith(name + " "))
    return line.split()


@pytest.mark.django_db
def test_it_runs_a_set_inline_and_prints_the_table(cu_set, emt):
    out, _ = run_command("optimization", "--set", cu_set.slug, *BASE, "--sync")

    run = BenchmarkRun.objects.get()
    assert (run.kind, run.model.name, run.structure_set, run.owner.username) == ("optimization", "emt", cu_set, "owner")
    tasks = {t.structure.name: t for t in run.tasks.all()}
    assert {t.status for t in tasks.values()} == {"COMPLETED"}
    assert tasks["Cu-wide"].params["fmax"] == 0.05  # the quick preset

    assert f"benchmark run {run.pk}" in out
    header = next(line for line in out.splitlines() if line.startswith("Structure"))
    for label in ("Atoms", "Steps", "E final (eV)", "ΔV vs input (%)", "ΔV vs DFT (%)", "Wall (s)"):
        assert label in header
    wide, tight = tasks["Cu-wide"].result, tasks["Cu-tight"].result
    wide_cells = row_of(out, "Cu-wide")
    assert wide_cells[1:4] == ["4", "COMPLETED", str(wide["steps"])]
    assert f"{wide['final_energy_ev']:.4f}" in wide_cells
    assert f"{wide['volume_change_pct']:+.2f}" in wide_cells
    assert f"{100 * (wide['final']['volume_a3'] / 46.3 - 1):+.2f}" in wide_cells  # vs the reference volume
    tight_cells = row_of(out, "Cu-tight")
    assert f"{tight['volume_change_pct']:+.2f}" in tight_cells and "—" in tight_cells  # no DFT reference
    # Set order, not creation or name order.
    assert out.index("Cu-wide ") < out.index("Cu-tight ")
    assert "Tasks: 2 completed, 0 failed, 0 cancelled — 2 of 2 finished" in out
    assert "Within ±10 % of DFT volume: 1 of 1 (100%)" in out


@pytest.mark.django_db
def test_it_exits_non_zero_when_a_task_fails(tmp_path, owner, emt, cu_structure):
    from structures_app.services import store_path

    path = tmp_path / "Li.cif"
    write(path, bulk("Li", "bcc", a=3.45, cubic=True))
    store_path(path, owner=owner, project="owner", name="Li-bcc")  # EMT has no Li parameters

    out = io.StringIO()
    err = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(
            "enqueue_benchmark",
            "single_point",
            "--structures",
            "Cu-fcc,Li-bcc",
            *BASE,
            "--sync",
            stdout=out,
            stderr=err,
        )
    assert excinfo.value.returncode == 1
    assert "1 of 2 task(s) did not complete" in str(excinfo.value)
    assert row_of(out.getvalue(), "Cu-fcc")[2] == "COMPLETED"
    assert row_of(out.getvalue(), "Li-bcc")[2] == "FAILED"
    assert "Li-bcc: FAILED NotImplementedError: No EMT-potential for Li" in err.getvalue()


@pytest.mark.django_db
def test_it_times_out_with_exit_status_two_when_nobody_runs_the_tasks(cu_set, emt):
    out = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command(
            "enqueue_benchmark",
            "optimization",
            "--set",
            cu_set.slug,
            *BASE,
            "--wait",
            "--timeout",
            "0.3",
            stdout=out,
            stderr=io.StringIO(),
        )
    assert excinfo.value.returncode == 2
    assert row_of(out.getvalue(), "Cu-wide")[2] == "QUEUED"


@pytest.mark.django_db
def test_it_enqueues_only_and_defaults_to_the_mofsim_system_user(emt):
    out, _ = run_command("single_point", "--set", "essential", "--model", "emt", "--priority", "high")
    run = BenchmarkRun.objects.get()
    user = get_user_model().objects.get(username="mofsim")
    assert run.owner == user and not user.is_staff and not user.is_superuser
    assert not user.has_usable_password()
    names = list(run.tasks.order_by("created_at").values_list("structure__name", flat=True))
    assert names == ["MOF-5_primitive", "IRMOF-10_primitive", "UiO-66_primitive", "HKUST-1_primitive"]
    assert set(run.tasks.values_list("status", flat=True)) == {"QUEUED"}
    assert set(run.tasks.values_list("priority", flat=True)) == {2}
    assert "4 task(s)" in out and "Structure" not in out  # no table without --wait/--sync


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "nope", *BASE], "unknown structure set 'nope'"),
        (["--structures", "Cu-fcc,Nope", *BASE], "no structure named 'Nope'"),
        (["--set", "cu-pair", *BASE, "--params", "{bad"], "--params is not valid JSON"),
        (["--set", "cu-pair", *BASE, "--params", '{"fmax": -1}'], "params: fmax"),
        (["--set", "cu-pair", "--model", "gpt", "--user", "owner"], "no enabled model 'gpt'"),
        (["--set", "cu-pair", "--model", "emt", "--user", "ghost"], "no user 'ghost'"),
    ],
)
def test_it_explains_bad_arguments(cu_set, cu_structure, emt, args, message):
    with pytest.raises(CommandError, match=message.replace("{", r"\{")):
        run_command("optimization", *args)
    assert not BenchmarkRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_it_waits_for_a_real_worker(cu_set, emt, worker, capsys):
    out, _ = run_command("optimization", "--set", cu_set.slug, *BASE, "--wait", "--timeout", "90")
    run = BenchmarkRun.objects.get()
    assert set(run.tasks.values_list("status", flat=True)) == {"COMPLETED"}
    assert "2/2" in capsys.readouterr().err  # the tqdm bar reached the end
    assert row_of(out, "Cu-wide")[2] == "COMPLETED" and row_of(out, "Cu-tight")[2] == "COMPLETED"
    assert "Within ±10 % of DFT volume: 1 of 1 (100%)" in out


@pytest.mark.django_db
def test_a_run_belongs_to_whoever_ran_the_command_when_they_have_an_account(emt, owner, operator, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: owner.username)
    run_command("single_point", "--set", "essential", "--model", "emt")
    assert BenchmarkRun.objects.get().owner == owner  # not the system account
    run_command("single_point", "--set", "essential", "--model", "emt", "--owner", operator.username)
    assert BenchmarkRun.objects.order_by("-created_at").first().owner == operator
