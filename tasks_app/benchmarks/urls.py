"""Benchmark pages, included from ``tasks_app/urls.py`` under ``benchmarks/`` (same namespace)."""

from django.urls import path

from tasks_app.benchmarks import views

urlpatterns = [
    path("", views.benchmark_list, name="benchmark_list"),
    path("new/", views.benchmark_create, name="benchmark_create"),
    path("new/estimate/", views.benchmark_estimate, name="benchmark_estimate"),
    path("compare/", views.benchmark_compare, name="benchmark_compare"),
    path("<uuid:pk>/", views.benchmark_detail, name="benchmark_detail"),
    path("<uuid:pk>/notes/", views.benchmark_notes, name="benchmark_notes"),
]
