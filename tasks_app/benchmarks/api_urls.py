"""``/api/v1/benchmarks``: benchmark runs, their reports and comparisons."""

from django.urls import path

from tasks_app.benchmarks import api

urlpatterns = [
    path("benchmarks/", api.BenchmarkListCreate.as_view(), name="benchmark-list"),
    path("benchmarks/compare", api.BenchmarkCompare.as_view(), name="benchmark-compare"),
    path("benchmarks/<uuid:pk>/", api.BenchmarkDetail.as_view(), name="benchmark-detail"),
    path("benchmarks/<uuid:pk>/report.csv", api.BenchmarkReportCSV.as_view(), name="benchmark-report-csv"),
    path("benchmarks/<uuid:pk>/report.json", api.BenchmarkReportJSON.as_view(), name="benchmark-report-json"),
]
