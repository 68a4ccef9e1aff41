"""Server-rendered pages: who may see what, the htmx fragments, the upload form, query counts."""

import pytest
from django.urls import reverse

from tasks_app.choices import TaskStatus
from tasks_app.models import TaskArtifact, TaskLogLine, TaskMetricPoint
from tasks_app.state import transition
from tests.conftest import make_task

pytestmark = pytest.mark.django_db

CU_CIF = """data_Cu
_cell_length_a 3.6
_cell_length_b 3.6
_cell_length_c 3.6
_cell_angle_alpha 90
_cell_angle_beta 90
_cell_angle_gamma 90
_symmetry_space_group_name_H-M 'P 1'
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
Cu1 Cu 0.0 0.0 0.0
Cu2 Cu 0.5 0.5 0.0
Cu3 Cu 0.5 0.0 0.5
Cu4 Cu 0.0 0.5 0.5
"""


def page_urls(task, structure):
    return [
        reverse("tasks_app:task_list"),
        reverse("tasks_app:task_detail", args=[task.pk]),
        reverse("tasks_app:task_submit"),
        reverse("structures_app:structure_list"),
        reverse("structures_app:structure_detail", args=[structure.pk]),
        reverse("structures_app:structure_upload"),
        reverse("models_app:model_list"),
        reverse("nodes_app:node_list"),
        reverse("alerts_app:alert_list"),
    ]


def test_it_renders_every_page_for_the_owner(owner_client, task, cu_structure):
    for url in page_urls(task, cu_structure):
        response = owner_client.get(url)
        assert response.status_code == 200, url
        assert b"<main>" in response.content, url


def test_it_redirects_anonymous_visitors_to_login(client, task, cu_structure):
    for url in page_urls(task, cu_structure):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


def test_it_hides_another_researchers_task(client, outsider, task):
    client.force_login(outsider)
    assert client.get(reverse("tasks_app:task_detail", args=[task.pk])).status_code == 404
    assert client.post(reverse("tasks_app:task_cancel", args=[task.pk])).status_code == 404
    assert client.get(reverse("tasks_app:artifact_download", args=[task.pk, "result.json"])).status_code == 404
    listing = client.get(reverse("tasks_app:task_list"))
    assert str(task.pk) not in listing.content.decode()


def test_it_shows_the_task_with_its_live_hooks(owner_client, task):
    TaskMetricPoint.objects.create(task=task, step=1, data={"energy": -1.5, "fmax": 0.2})
    body = owner_client.get(reverse("tasks_app:task_detail", args=[task.pk])).content.decode()
    assert f'ws-connect="/ws/tasks/{task.pk}/"' in body
    assert 'id="task-status"' in body and ">QUEUED<" in body
    assert 'id="log-lines"' in body and "status PENDING → QUEUED" in body
    assert '"energy": -1.5' in body  # initial chart points
    assert 'hx-trigger="every 10s"' in body  # polling fallback while not terminal
    assert 'id="cancel-task"' in body


def test_the_poll_returns_new_log_lines_and_keeps_polling_while_active(owner_client, task):
    first = task.log_lines.last()
    TaskLogLine.objects.create(task=task, level="INFO", message="step one done")
    url = reverse("tasks_app:task_detail", args=[task.pk])
    response = owner_client.get(url, {"after": first.id}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="task-status"' in body and 'hx-swap-oob="true"' in body
    assert "step one done" in body and 'hx-swap-oob="beforeend:#log-lines"' in body
    assert "status PENDING → QUEUED" not in body  # only lines after ``after``
    assert "<main>" not in body


def test_the_poll_stops_with_286_once_the_task_is_terminal(owner_client, task):
    transition(task, TaskStatus.CANCELLED)
    response = owner_client.get(reverse("tasks_app:task_detail", args=[task.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 286
    body = response.content.decode()
    assert ">CANCELLED<" in body
    assert 'id="task-actions"' in body  # the cancel button is swapped away


def test_it_shows_a_result_and_its_artifacts(owner_client, task):
    transition(task, TaskStatus.ASSIGNED)
    transition(task, TaskStatus.RUNNING)
    transition(task, TaskStatus.COMPLETED, result={"energy_ev": -14.123456789, "provenance": {"device": "cpu"}})
    TaskArtifact.objects.create(task=task, name="result.json", path="x", size_bytes=10, sha256="0" * 64)
    body = owner_client.get(reverse("tasks_app:task_detail", args=[task.pk])).content.decode()
    assert "<th>Energy</th>" in body and "−14.12346" in body and ">eV<" in body  # labelled, with unit
    assert "<th>energy_ev</th>" not in body
    assert reverse("tasks_app:artifact_download", args=[task.pk, "result.json"]) in body
    assert 'id="cancel-task"' not in body and "every 10s" not in body


def test_the_task_list_filters_by_status_as_a_fragment(owner_client, task, owner, cu_structure, emt):
    other = make_task(owner, cu_structure, emt)
    transition(other, TaskStatus.CANCELLED)
    response = owner_client.get(reverse("tasks_app:task_list"), {"status": "CANCELLED"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<main>" not in body
    assert f"task-row-{other.pk}" in body and f"task-row-{task.pk}" not in body
    assert "data-live-insert" not in body  # filtered lists take no live new rows


def test_the_task_list_query_count_does_not_grow_with_tasks(
    owner_client, owner, cu_structure, emt, django_assert_max_num_queries
):
    make_task(owner, cu_structure, emt)
    with django_assert_max_num_queries(6) as few:
        owner_client.get(reverse("tasks_app:task_list"))
    for _ in range(15):
        make_task(owner, cu_structure, emt)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner_client.get(reverse("tasks_app:task_list"))
    assert response.content.decode().count('id="task-row-') == 16


def test_the_node_list_query_count_does_not_grow_with_nodes(owner_client, django_assert_max_num_queries):
    from nodes_app.models import WorkerNode

    WorkerNode.objects.create(name="gpu-0")
    with django_assert_max_num_queries(6) as few:
        owner_client.get(reverse("nodes_app:node_list"))
    for i in range(1, 10):
        WorkerNode.objects.create(name=f"gpu-{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = owner_client.get(reverse("nodes_app:node_list"))
    assert response.content.decode().count('id="node-row-') == 10


def test_the_task_form_submits_and_redirects_to_the_live_page(owner_client, cu_structure, emt):
    response = owner_client.post(
        reverse("tasks_app:task_submit"),
        {"kind": "optimization", "structure": cu_structure.pk, "model": "emt", "preset": "quick", "priority": 1},
    )
    assert response.status_code == 302
    task = cu_structure.tasks.get()
    assert response["Location"] == reverse("tasks_app:task_detail", args=[task.pk])
    assert task.status == TaskStatus.QUEUED and task.params["fmax"] == 0.05


def test_the_task_form_names_the_bad_field(owner_client, cu_structure, emt):
    response = owner_client.post(
        reverse("tasks_app:task_submit"),
        {"kind": "optimization", "structure": cu_structure.pk, "model": "emt", "preset": "quick", "params": "{bad"},
    )
    assert response.status_code == 200
    assert "not valid JSON" in response.content.decode()
    assert not cu_structure.tasks.exists()


def test_uploading_a_good_cif_redirects_to_its_page(owner_client, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("copper.cif", CU_CIF.encode(), content_type="chemical/x-cif")
    response = owner_client.post(reverse("structures_app:structure_upload"), {"file": upload, "name": "my copper"})
    assert response.status_code == 302
    structure = owner.structures.get()
    assert response["Location"] == reverse("structures_app:structure_detail", args=[structure.pk])
    assert structure.formula == "Cu4" and structure.n_atoms == 4
    detail = owner_client.get(response["Location"]).content.decode()
    assert "my copper" in detail and "Uploaded my copper" in detail


def test_uploading_a_broken_file_shows_the_error_with_400(owner_client, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    broken = SimpleUploadedFile("broken.cif", b"data_x\n_cell_length_a banana\nloop_\n_atom_site_label\n")
    response = owner_client.post(reverse("structures_app:structure_upload"), {"file": broken})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="field-error"' in body and "broken" not in owner.structures.values_list("name", flat=True)
    assert "could not parse" in body or "no atoms" in body

    wrong_type = SimpleUploadedFile("notes.txt", b"hello")
    response = owner_client.post(reverse("structures_app:structure_upload"), {"file": wrong_type})
    assert response.status_code == 400
    assert "unsupported file type" in response.content.decode()
    assert not owner.structures.exists()


def test_the_structure_list_keeps_the_set_filter_when_paging(owner_client, owner, cu_cif):
    from django.forms.models import model_to_dict

    from structures_app.models import Structure, StructureSet, StructureSetMember
    from structures_app.services import store_path

    mine = StructureSet.objects.create(slug="mine", owner=owner)
    first = store_path(cu_cif, owner=owner, project=owner.username, name="cu-00")
    fields = model_to_dict(first, exclude=["id", "owner", "name"])
    for i in range(51):  # copies of one parsed row: paging is the subject, not 51 parses
        structure = first if i == 0 else Structure.objects.create(**fields, owner=owner, name=f"cu-{i:02d}")
        StructureSetMember.objects.create(structure_set=mine, structure=structure, index=i)
    body = owner_client.get(reverse("structures_app:structure_list"), {"set": "mine"}).content.decode()
    assert "page 1 of 2" in body
    assert "?set=mine&amp;page=2" in body


def test_run_again_submits_a_copy_and_htmx_follows_it(owner_client, task, outsider, client):
    from tasks_app.models import Task

    response = owner_client.post(reverse("tasks_app:task_rerun", args=[task.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    copy = Task.objects.exclude(pk=task.pk).get()
    assert response["HX-Redirect"] == reverse("tasks_app:task_detail", args=[copy.pk])
    assert (copy.kind, copy.structure_id, copy.model_id, copy.params, copy.priority, copy.status) == (
        task.kind, task.structure_id, task.model_id, task.params, task.priority, "QUEUED")  # fmt: skip
    plain = owner_client.post(reverse("tasks_app:task_rerun", args=[task.pk]))
    assert plain.status_code == 302 and Task.objects.count() == 3
    client.force_login(outsider)
    assert client.post(reverse("tasks_app:task_rerun", args=[task.pk])).status_code == 404


def test_cancel_from_the_page_with_htmx(owner_client, task):
    response = owner_client.post(reverse("tasks_app:task_cancel", args=[task.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"].endswith(f"/tasks/{task.pk}/")
    task.refresh_from_db()
    assert task.status == "CANCELLED"
    body = owner_client.get(reverse("tasks_app:task_detail", args=[task.pk])).content.decode()
    assert 'id="cancel-task"' not in body and 'id="rerun-task"' in body


def test_the_benchmarks_tab_is_highlighted_on_benchmark_pages(owner_client):
    body = owner_client.get(reverse("tasks_app:benchmark_list")).content.decode()
    assert 'class="current">Benchmarks</a>' in body and 'class="current">Tasks</a>' not in body
    body = owner_client.get(reverse("tasks_app:task_list")).content.decode()
    assert 'class="current">Tasks</a>' in body and 'class="current">Benchmarks</a>' not in body


def test_run_again_is_offered_only_once_the_task_has_finished(owner_client, task):
    url = reverse("tasks_app:task_detail", args=[task.pk])
    assert 'id="rerun-task"' not in owner_client.get(url).content.decode()
    transition(task, TaskStatus.CANCELLED)
    assert 'id="rerun-task"' in owner_client.get(url).content.decode()


def test_the_task_form_lists_each_types_parameters_with_preset_defaults_and_units(owner_client):
    url = reverse("tasks_app:task_param_help")
    body = owner_client.get(url, {"kind": "heat_capacity", "preset": "quick"}, HTTP_HX_REQUEST="true").content.decode()
    assert 'data-param="relax_fmax"' in body and 'data-param="fmax"' not in body
    assert "<code>0.02</code>" in body and "eV/Å" in body  # quick preset's relax_fmax, with its unit
    body = owner_client.get(url, {"kind": "heat_capacity", "preset": "protocol"}).content.decode()
    assert "<code>0.001</code>" in body
    assert owner_client.get(url, {"kind": "nope"}).status_code == 400


def test_the_form_checks_as_you_type_and_names_the_valid_parameters(owner_client, cu_structure, emt):
    url = reverse("tasks_app:task_validate")
    data = {"kind": "heat_capacity", "structure": cu_structure.pk, "model": "emt", "preset": "quick", "priority": 1}
    body = owner_client.post(url, {**data, "params": '{"fmax": 0.01}'}).content.decode()
    assert "unknown parameter for Heat capacity; valid names: d3, displacement_a" in body and "relax_fmax" in body
    body = owner_client.post(url, {**data, "params": '{"relax_fmax": 0.05}'}).content.decode()
    assert 'id="form-check-ok"' in body and "&quot;relax_fmax&quot;: 0.05" in body
    from tasks_app.models import Task

    assert not Task.objects.filter(kind="heat_capacity").exists()  # checking submits nothing


def test_the_structure_picker_labels_options_with_formula_atoms_and_set(owner_client, cu_structure):
    body = owner_client.get(reverse("tasks_app:task_submit")).content.decode()
    assert "Cu-fcc · Cu4, 4 atoms · uploaded" in body
    assert 'data-filter-select="id_structure"' in body and 'id="param-help"' in body


def test_the_owner_keeps_notes_and_tags_on_a_task(owner_client, client, outsider, task):
    url = reverse("tasks_app:task_notes", args=[task.pk])
    response = owner_client.post(url, {"notes": "B0 looks low; try D3", "tags": "MOF-5, d3 d3"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'id="notes-saved"' in response.content.decode()
    task.refresh_from_db()
    assert (task.notes, task.tags) == ("B0 looks low; try D3", ["mof-5", "d3"])
    listing = owner_client.get(reverse("tasks_app:task_list")).content.decode()
    assert '<a class="pill" href="/?tag=mof-5">mof-5</a>' in listing
    assert str(task.pk) in owner_client.get(reverse("tasks_app:task_list"), {"tag": "MOF-5"}).content.decode()
    assert str(task.pk) not in owner_client.get(reverse("tasks_app:task_list"), {"tag": "mof"}).content.decode()
    bad = owner_client.get(reverse("tasks_app:task_list"), {"tag": "no/such"}, HTTP_HX_REQUEST="true").content.decode()
    assert str(task.pk) not in bad and "Tag filter: &#x27;no/such&#x27;: tags are up to 40 letters" in bad
    assert "B0 looks low; try D3" in owner_client.get(reverse("tasks_app:task_detail", args=[task.pk])).content.decode()
    response = owner_client.post(url, {"notes": "", "tags": "bad/tag"})
    assert response.status_code == 400 and "tags are up to 40 letters" in response.content.decode()
    client.force_login(outsider)
    assert client.post(url, {"notes": "mine now", "tags": ""}).status_code == 404
