"""``/api/v1/benchmarks/``: benchmark runs, their reports and comparisons."""

from django.urls import path

from mofsim_site.routes import slashed
from tasks_app.benchmarks import api

urlpatterns = [
    path("benchmarks/", api.BenchmarkListCreate.as_view(), name="benchmark-list"),
    *slashed("benchmarks/compare", api.BenchmarkCompare, "benchmark-compare"),
    *slashed("benchmarks/estimate", api.BenchmarkEstimate, "benchmark-estimate"),
    path("benchmarks/<uuid:pk>/", api.BenchmarkDetail.as_view(), name="benchmark-detail"),
    *slashed("benchmarks/<uuid:pk>/report.csv", api.BenchmarkReportCSV, "benchmark-report-csv"),
    *slashed("benchmarks/<uuid:pk>/report.json", api.BenchmarkReportJSON, "benchmark-report-json"),
]
