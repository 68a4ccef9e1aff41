"""Benchmark pages: list, create form, live report (HTMX fragment, 286 when done), comparison."""

import pytest

from tasks_app.benchmarks.services import create_benchmark_run
from tasks_app.models import BenchmarkRun

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def run(owner, cu_set, emt):
    return create_benchmark_run(owner=owner, kind="optimization", model=emt, structure_set=cu_set, preset="quick")


def finish(run, run_inline):
    for task in run.tasks.all():
        run_inline(task, device="cpu")


def test_the_list_shows_only_my_runs(owner_client, client, run, outsider, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        page = owner_client.get("/benchmarks/")
    assert page.status_code == 200
    assert str(run.pk) in page.content.decode() and "0 / 2" in page.content.decode()
    client.force_login(outsider)
    assert str(run.pk) not in client.get("/benchmarks/").content.decode()
    assert client.get(f"/benchmarks/{run.pk}/").status_code == 404


def test_the_form_creates_a_run(owner_client, cu_set, emt):
    response = owner_client.post(
        "/benchmarks/new/",
        {
            "kind": "optimization",
            "model": "emt",
            "structure_set": "cu-pair",
            "preset": "quick",
            "priority": 1,
            "params": '{"fmax": 0.04}',
        },
    )
    run = BenchmarkRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/benchmarks/{run.pk}/"
    assert run.tasks.count() == 2 and run.params["fmax"] == 0.04


def test_the_form_shows_parameter_errors(owner_client, cu_set, emt):
    response = owner_client.post(
        "/benchmarks/new/",
        {
            "kind": "optimization",
            "model": "emt",
            "structure_set": "cu-pair",
            "preset": "quick",
            "priority": 1,
            "params": '{"fmax": "lots"}',
        },
    )
    assert response.status_code == 200 and "fmax" in response.content.decode()
    assert not BenchmarkRun.objects.exists()


def test_the_report_polls_while_running_and_stops_with_286(owner_client, run, run_inline):
    page = owner_client.get(f"/benchmarks/{run.pk}/").content.decode()
    assert 'hx-trigger="every 3s"' in page and "QUEUED" in page
    assert f"/api/v1/benchmarks/{run.pk}/report.csv" in page

    fragment = owner_client.get(f"/benchmarks/{run.pk}/", **HX)
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()

    finish(run, run_inline)
    fragment = owner_client.get(f"/benchmarks/{run.pk}/", **HX)
    body = fragment.content.decode()
    assert fragment.status_code == 286
    assert "hx-trigger" not in body and "COMPLETED" in body
    assert "Within ±10 % of DFT volume" in body
    assert body.count("<svg") == 2  # volume parity plot + volume-change histogram (no B0/Cv data)
    assert "Volume: predicted vs DFT" in body and "Cu-wide" in body


def test_the_comparison_page_puts_runs_side_by_side(owner_client, run, owner, cu_set, emt, run_inline):
    other = create_benchmark_run(
        owner=owner, kind="optimization", model=emt, structure_set=cu_set, preset="quick", params={"fmax": 0.1}
    )
    finish(run, run_inline)
    finish(other, run_inline)
    page = owner_client.get(f"/benchmarks/compare/?runs={run.pk}&runs={other.pk}")
    body = page.content.decode()
    assert page.status_code == 200
    assert body.count(f"/benchmarks/{run.pk}/") == 1 and body.count(f"/benchmarks/{other.pk}/") == 1
    assert "ΔV vs DFT (%) per structure" in body and "<svg" in body
    assert 'id="compare-speed"' in body and "only between tasks that ran on the same device" in body
    assert "atoms·steps/s (2 tasks) · 1.00×" in body  # both runs on this CPU: a ratio
    assert owner_client.get(f"/benchmarks/compare/?runs={run.pk}").status_code == 302  # needs two


def test_a_bulk_modulus_report_has_an_eos_panel_per_structure(owner_client, owner, cu_set, emt, run_inline):
    from structures_app.models import Structure

    Structure.objects.filter(name="Cu-wide").update(reference={"dft_b0_gpa": 140.0})
    params = {"npoints": 7, "relax_steps": 60, "point_steps": 15}
    bm = create_benchmark_run(
        owner=owner, kind="bulk_modulus", model=emt, structure_set=cu_set, preset="quick", params=params
    )
    finish(bm, run_inline)
    body = owner_client.get(f"/benchmarks/{bm.pk}/").content.decode()
    panels = body.split('id="benchmark-panels"')[1].split("</section>")[0]
    assert panels.count('<figure class="panel"') == 2
    assert 'data-structure="Cu-wide"' in panels and 'data-structure="Cu-tight"' in panels
    assert "DFT 140.0 GPa" in panels and "DFT — GPa" in panels
    assert panels.count('class="axis-title">volume (Å³)<') == 2
    assert panels.count("E − E_min (eV)</text>") == 2
    assert "same fit with the DFT B0" in panels  # the shared legend


def test_the_owner_keeps_notes_and_tags_on_a_run_and_filters_the_list(owner_client, client, outsider, run):
    url = f"/benchmarks/{run.pk}/notes/"
    page = owner_client.get(f"/benchmarks/{run.pk}/").content.decode()
    assert f'hx-post="{url}"' in page
    response = owner_client.post(url, {"notes": "first pass, quick preset", "tags": "Quick, emt"}, **HX)
    assert response.status_code == 200 and 'id="run-notes-saved"' in response.content.decode()
    run.refresh_from_db()
    assert (run.notes, run.tags) == ("first pass, quick preset", ["quick", "emt"])
    page = owner_client.get(f"/benchmarks/{run.pk}/").content.decode()
    assert "first pass, quick preset" in page and 'href="/benchmarks/?tag=emt">emt</a>' in page

    assert str(run.pk) in owner_client.get("/benchmarks/", {"tag": "emt"}).content.decode()
    other = owner_client.get("/benchmarks/", {"tag": "d3"}).content.decode()
    assert str(run.pk) not in other and "No runs tagged d3." in other
    bad = owner_client.get("/benchmarks/", {"tag": "a/b"})
    assert bad.status_code == 400 and "tags are up to 40 letters" in bad.content.decode()

    response = owner_client.post(url, {"notes": "", "tags": "bad/tag"}, **HX)
    assert response.status_code == 400 and "tags are up to 40 letters" in response.content.decode()
    client.force_login(outsider)
    assert client.post(url, {"notes": "mine now", "tags": ""}).status_code == 404
    run.refresh_from_db()
    assert run.tags == ["quick", "emt"]
