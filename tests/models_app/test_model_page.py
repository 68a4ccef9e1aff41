"""The model page: family, variant, capability, the nodes that can run it, its benchmark runs."""

import pytest
from django.urls import reverse

from nodes_app.services import record_heartbeat, register_local_node
from tasks_app.benchmarks.services import create_benchmark_run

pytestmark = pytest.mark.django_db


def test_it_shows_family_variant_capability_and_that_no_node_runs_it(owner_client, builtin_models):
    html = owner_client.get(reverse("models_app:model_detail", args=["chgnet-0-3-0"])).content.decode()
    assert "CHGNet" in html and "<code>model_name=0.3.0</code>" in html
    assert "nodes must report <code>chgnet</code>" in html and "requirements/models/chgnet.txt" in html
    assert builtin_models["chgnet-0-3-0"].sha256 in html
    assert "No enabled node reports the CHGNet family" in html
    assert "No benchmark runs with chgnet-0-3-0 yet" in html
    assert owner_client.get(reverse("models_app:model_detail", args=["nope"])).status_code == 404


def test_it_lists_capable_nodes_and_benchmark_runs_with_speed_per_device(
    owner_client, owner, emt, cu_structure, run_inline, django_assert_max_num_queries
):
    node, _ = register_local_node("box/cpu", device="cpu")
    record_heartbeat(node, {"families": ["emt", "mace"]})
    other, _ = register_local_node("box/orb/cpu", device="cpu")
    record_heartbeat(other, {"families": ["orb"]})
    run = create_benchmark_run(owner=owner, kind="single_point", model=emt, structures=[cu_structure],
                               preset="quick", name="emt-check")  # fmt: skip
    for task in run.tasks.all():
        run_inline(task, device="cpu")
    with django_assert_max_num_queries(30):
        html = owner_client.get(reverse("models_app:model_detail", args=["emt"])).content.decode()
    assert "box/cpu" in html and "box/orb/cpu" not in html
    assert reverse("tasks_app:benchmark_detail", args=[run.pk]) in html and "emt-check" in html
    assert "1 / 1" in html and "cpu: " in html
    listing = owner_client.get(reverse("models_app:model_list")).content.decode()
    assert reverse("models_app:model_detail", args=["emt"]) in listing
