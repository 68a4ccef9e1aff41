"""Prometheus ``/metrics`` (issue 14), computed from the database at scrape time.

Why not counters and histograms observed in-process: tasks run in worker processes on other
machines, web requests in several daphne processes; ``PROMETHEUS_MULTIPROC_DIR`` only merges the
processes of *one* machine. The database already holds every fact (states, times, attempts,
heartbeats, delivery rows), so one custom ``Collector`` reads it when Prometheus scrapes, and
every web process answers the same thing. Counters (``*_total``) and histograms are cumulative
over the rows that exist: they only go down when rows are deleted (task deletion; artifact
pruning keeps the rows), which Prometheus' ``rate()`` treats as a counter reset. Durations and
waits are bucketed in SQL (one grouped query per histogram), so a scrape costs a handful of
queries whatever the number of tasks. Scrape every 15–60 s.

Access: ``Authorization: Bearer <METRICS_TOKEN>`` or a client address in
``METRICS_ALLOWED_NETS`` (CIDRs; the client address honours ``TRUSTED_PROXY_COUNT``). With
neither configured every scrape is refused (403): metrics name users' task kinds and nodes.
"""

import hmac
import ipaddress
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from alerts_app.models import Alert
from mofsim_site.client_ip import client_ip
from nodes_app.models import WorkerNode
from tasks_app.choices import TERMINAL, Priority, TaskStatus
from tasks_app.models import CallbackDelivery, Task

DURATION_BUCKETS_S = (1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 48 * 3600)
WAIT_BUCKETS_S = (0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)


def _histogram(name: str, doc: str, queryset, start: str, end: str, buckets) -> HistogramMetricFamily:
    """``end - start`` of each row, bucketed per kind in one grouped query."""
    family = HistogramMetricFamily(name, doc, labels=["kind"])
    span = ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    counts = {f"le{i}": Count("id", filter=Q(span__lte=timedelta(seconds=b))) for i, b in enumerate(buckets)}
    rows = (
        queryset.filter(**{f"{start}__isnull": False, f"{end}__isnull": False})
        .annotate(span=span)
        .values("kind")
        .annotate(n=Count("id"), total=Sum("span"), **counts)
        .order_by("kind")
    )
    for row in rows:
        cumulative = [(str(float(b)), row[f"le{i}"]) for i, b in enumerate(buckets)] + [("+Inf", row["n"])]
        total = row["total"].total_seconds() if row["total"] is not None else 0.0
        family.add_metric([row["kind"]], cumulative, total)
    return family


class DatabaseCollector:
    """Every mofsim metric, read from the database (see the module docstring for why)."""

    def collect(self):
        started = time.monotonic()
        yield from self._tasks()
        yield from self._nodes()
        yield from self._deliveries()
        scrape = GaugeMetricFamily("mofsim_scrape_duration_seconds", "Time spent computing these metrics")
        scrape.add_metric([], time.monotonic() - started)
        yield scrape

    def _tasks(self):
        tasks = GaugeMetricFamily("mofsim_tasks", "Tasks by state, kind and model", labels=["state", "kind", "model"])
        for row in Task.objects.values("status", "kind", "model__name").annotate(n=Count("id")).order_by():
            tasks.add_metric([row["status"], row["kind"], row["model__name"] or ""], row["n"])
        yield tasks

        queued = Task.objects.filter(status=TaskStatus.QUEUED)
        by_priority = dict(queued.values_list("priority").annotate(n=Count("id")).order_by())
        depth = GaugeMetricFamily("mofsim_queue_depth", "QUEUED tasks per priority", labels=["priority"])
        for priority in Priority:
            depth.add_metric([priority.name], by_priority.get(priority.value, 0))
        yield depth
        oldest = queued.order_by("queued_at").values_list("queued_at", flat=True).first()
        wait = GaugeMetricFamily("mofsim_queue_oldest_wait_seconds", "How long the oldest QUEUED task has waited")
        wait.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
        yield wait

        finished = Task.objects.filter(status__in=TERMINAL)
        yield _histogram("mofsim_task_duration_seconds", "Run time of finished tasks (started → finished)",
                         finished, "started_at", "finished_at", DURATION_BUCKETS_S)  # fmt: skip
        yield _histogram("mofsim_task_wait_seconds", "Queue wait of started tasks (queued → started)",
                         Task.objects.all(), "queued_at", "started_at", WAIT_BUCKETS_S)  # fmt: skip

        failures = CounterMetricFamily(
            "mofsim_task_failures", "Tasks that ended FAILED or TIMEOUT", labels=["kind", "state"]
        )
        for row in (
            Task.objects.filter(status__in=[TaskStatus.FAILED, TaskStatus.TIMEOUT])
            .values("kind", "status").annotate(n=Count("id")).order_by()
        ):  # fmt: skip
            failures.add_metric([row["kind"], row["status"]], row["n"])
        yield failures
        retried = CounterMetricFamily("mofsim_task_retried", "Tasks that needed more than one attempt", labels=["kind"])
        extra = CounterMetricFamily(
            "mofsim_task_extra_attempts", "Attempts beyond the first (fail-overs)", labels=["kind"]
        )
        for row in (
            Task.objects.filter(attempts__gt=1).values("kind")
            .annotate(n=Count("id"), extra=Sum(F("attempts") - 1)).order_by()
        ):  # fmt: skip
            retried.add_metric([row["kind"]], row["n"])
            extra.add_metric([row["kind"]], row["extra"])
        yield retried
        yield extra

    def _nodes(self):
        labels = ["node", "gpu"]
        up = GaugeMetricFamily("mofsim_node_up", "1 if the node heartbeats and is online", labels=["node"])
        age = GaugeMetricFamily(
            "mofsim_node_heartbeat_age_seconds", "Seconds since the last heartbeat", labels=["node"]
        )
        used = GaugeMetricFamily("mofsim_node_gpu_memory_used_bytes", "GPU memory in use", labels=labels)
        total = GaugeMetricFamily("mofsim_node_gpu_memory_total_bytes", "GPU memory", labels=labels)
        util = GaugeMetricFamily("mofsim_node_gpu_utilization_ratio", "GPU utilisation, 0–1", labels=labels)
        for node in WorkerNode.objects.order_by("name"):
            up.add_metric([node.name], 1.0 if node.is_alive else 0.0)
            if node.last_heartbeat is not None:
                age.add_metric([node.name], node.seconds_since_heartbeat)
            gpu = node.gpu_name or node.device
            if node.gpu_memory_used_mb is not None:
                used.add_metric([node.name, gpu], node.gpu_memory_used_mb * 2**20)
            if node.gpu_memory_total_mb is not None:
                total.add_metric([node.name, gpu], node.gpu_memory_total_mb * 2**20)
            if node.gpu_utilization is not None:
                util.add_metric([node.name, gpu], node.gpu_utilization / 100.0)
        yield from (up, age, used, total, util)

    def _deliveries(self):
        family = CounterMetricFamily(
            "mofsim_webhook_deliveries",
            "Delivery attempts of task callbacks, and alert deliveries, by outcome",
            labels=["source", "outcome"],
        )
        for row in CallbackDelivery.objects.values("outcome").annotate(n=Count("id")).order_by():
            family.add_metric(["callback", row["outcome"]], row["n"])
        for row in Alert.objects.values("delivery").annotate(n=Count("id")).order_by():
            family.add_metric(["alert", row["delivery"]], row["n"])
        yield family


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(DatabaseCollector())


def allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
        return True
    if settings.METRICS_ALLOWED_NETS:
        try:
            address = ipaddress.ip_address(client_ip(request))
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_NETS)
    return False


def metrics_view(request):
    if not allowed(request):
        return JsonResponse(
            {"code": "permission_denied", "message": "metrics need METRICS_TOKEN or an address in METRICS_ALLOWED_NETS",
             "details": {}, "request_id": getattr(request, "request_id", None)},
            status=403,
        )  # fmt: skip
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
