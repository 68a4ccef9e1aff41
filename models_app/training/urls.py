"""``/api/v1/jobs``: training jobs (submit, list, detail, artifacts, signed data downloads)."""

from django.urls import path, re_path

from models_app.training import api

urlpatterns = [
    re_path(r"^jobs/?$", api.JobList.as_view(), name="job-list"),
    path("jobs/data/<str:token>", api.JobData.as_view(), name="job-data"),
    path("jobs/<uuid:pk>/", api.JobDetail.as_view(), name="job-detail"),
    path("jobs/<uuid:pk>/artifacts", api.JobArtifacts.as_view(), name="job-artifacts"),
    path("jobs/<uuid:pk>/artifacts/<str:name>", api.JobArtifactDownload.as_view(), name="job-artifact"),
]
