"""``/metrics`` (issue 14): scraped after real tasks ran on a real worker, parsed with the
Prometheus text parser; refused without the token or an allowed network."""

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from mofsim_site.executors import ExecutorError
from nodes_app.models import WorkerNode
from tasks_app.services import enqueue_task
from tests.conftest import make_task, wait_for

TOKEN = "scrape-token-0123456789"


def boom(atoms, calculator, params, report):
    raise ExecutorError("boom on purpose")


def scrape(client=None, **headers):
    return (client or APIClient()).get("/metrics", **headers)


def families(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {f.name: f for f in text_string_to_metric_families(response.content.decode())}


def samples(family, name=None) -> dict:
    return {tuple(sorted(s.labels.items())): s.value for s in family.samples if name is None or s.name == name}


@pytest.mark.django_db(transaction=True)
def test_it_exposes_tasks_queue_histograms_and_failures_after_real_runs(
    api, owner, cu_structure, emt, worker, temp_kind, settings
):
    settings.METRICS_TOKEN = TOKEN
    kind = temp_kind("tmp_boom", boom)
    ids = [api.post("/api/v1/tasks/single_point", {"structure": cu_structure.pk, "model": "emt"}, format="json")
           .json()["id"] for _ in range(2)]  # fmt: skip
    # Kinds without a structure are training jobs, refused by the task API: submit it as the jobs API would.
    ids.append(str(enqueue_task(owner=owner, kind=kind, params={}).pk))
    terminal = {"COMPLETED", "FAILED"}
    wait_for(lambda: all(api.get(f"/api/v1/tasks/{i}/").json()["status"] in terminal for i in ids), timeout=90)

    got = families(scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))
    tasks = samples(got["mofsim_tasks"])
    assert tasks[(("kind", "single_point"), ("model", "emt"), ("state", "COMPLETED"))] == 2
    assert tasks[(("kind", "tmp_boom"), ("model", ""), ("state", "FAILED"))] == 1
    assert samples(got["mofsim_queue_depth"]) == {
        (("priority", p),): 0.0 for p in ("LOW", "NORMAL", "HIGH", "CRITICAL")
    }
    assert samples(got["mofsim_task_failures"], "mofsim_task_failures_total") == {
        (("kind", "tmp_boom"), ("state", "FAILED")): 1.0
    }

    duration = got["mofsim_task_duration_seconds"]
    count = samples(duration, "mofsim_task_duration_seconds_count")
    assert count[(("kind", "single_point"),)] == 2 and count[(("kind", "tmp_boom"),)] == 1
    buckets = {s.labels["le"]: s.value for s in duration.samples
               if s.name.endswith("_bucket") and s.labels["kind"] == "single_point"}  # fmt: skip
    assert buckets["+Inf"] == 2 and buckets["60.0"] == 2  # EMT on 4 atoms takes well under a minute
    values = [buckets[le] for le in sorted(buckets, key=lambda le: float(le))]
    assert values == sorted(values)  # cumulative
    total = samples(duration, "mofsim_task_duration_seconds_sum")[(("kind", "single_point"),)]
    assert 0 < total < 60
    waits = samples(got["mofsim_task_wait_seconds"], "mofsim_task_wait_seconds_count")
    assert waits[(("kind", "single_point"),)] == 2


@pytest.mark.django_db
def test_it_has_node_gpu_retry_and_delivery_metrics(owner, cu_structure, emt, settings):
    from alerts_app.models import Alert, AlertRule
    from tasks_app.state import transition

    settings.METRICS_TOKEN = TOKEN
    node = WorkerNode.objects.create(
        name="gpu-0", gpu_name="NVIDIA H200", gpu_memory_total_mb=1000, gpu_memory_used_mb=250, gpu_utilization=40.0,
        status="online", last_heartbeat=timezone.now(),
    )  # fmt: skip
    task = make_task(owner, cu_structure, emt)
    transition(task, "ASSIGNED", node=node)
    transition(task, "QUEUED", message="node lost")  # a fail-over, as housekeeping does it
    transition(task, "ASSIGNED", node=node)
    rule = AlertRule.objects.create(name="r", event="task_failed", transport="email", target="a@b.c", owner=owner)
    Alert.objects.create(rule=rule, event="task_failed", subject="s", message="m", delivery="sent")

    got = families(scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}"))
    labels = (("gpu", "NVIDIA H200"), ("node", "gpu-0"))
    assert samples(got["mofsim_node_gpu_memory_used_bytes"])[labels] == 250 * 2**20
    assert samples(got["mofsim_node_gpu_memory_total_bytes"])[labels] == 1000 * 2**20
    assert samples(got["mofsim_node_gpu_utilization_ratio"])[labels] == pytest.approx(0.4)
    assert samples(got["mofsim_node_up"])[(("node", "gpu-0"),)] == 1
    assert 0 <= samples(got["mofsim_node_heartbeat_age_seconds"])[(("node", "gpu-0"),)] < 60
    assert samples(got["mofsim_task_retried"], "mofsim_task_retried_total") == {(("kind", "single_point"),): 1}
    assert samples(got["mofsim_task_extra_attempts"], "mofsim_task_extra_attempts_total") == {
        (("kind", "single_point"),): 1
    }
    deliveries = samples(got["mofsim_webhook_deliveries"], "mofsim_webhook_deliveries_total")
    assert deliveries == {(("outcome", "sent"), ("source", "alert")): 1}
    assert samples(got["mofsim_queue_depth"])[(("priority", "NORMAL"),)] == 0


@pytest.mark.django_db
def test_it_refuses_without_the_token_or_an_allowed_network(settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETS = []
    response = scrape()
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    settings.METRICS_TOKEN = TOKEN
    assert scrape().status_code == 403
    assert scrape(HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    settings.METRICS_ALLOWED_NETS = ["10.0.0.0/8"]
    assert scrape(REMOTE_ADDR="10.1.2.3").status_code == 200
    assert scrape(REMOTE_ADDR="192.168.1.1").status_code == 403
    assert scrape(REMOTE_ADDR="192.168.1.1", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 403  # no proxy trusted


@pytest.mark.django_db
def test_the_sample_dashboard_uses_only_metrics_we_expose(settings):
    import json
    import re
    from pathlib import Path

    settings.METRICS_TOKEN = TOKEN
    exposed = set(families(scrape(HTTP_AUTHORIZATION=f"Bearer {TOKEN}")))
    dashboard = json.loads((Path(settings.BASE_DIR) / "deploy/grafana/mofsim-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {re.sub(r"_(total|bucket|sum|count)$", "", n) for e in exprs for n in re.findall(r"mofsim_\w+", e)}
    assert used and used <= exposed, used - exposed
