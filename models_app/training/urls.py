"""``/api/v1/jobs/``: training jobs (submit, list, detail, artifacts, signed data downloads)."""

from django.urls import path

from models_app.training import api
from mofsim_site.routes import slashed

urlpatterns = [
    *slashed("jobs", api.JobList, "job-list"),
    *slashed("jobs/data/<str:token>", api.JobData, "job-data"),
    path("jobs/<uuid:pk>/", api.JobDetail.as_view(), name="job-detail"),
    *slashed("jobs/<uuid:pk>/artifacts", api.JobArtifacts, "job-artifacts"),
    *slashed("jobs/<uuid:pk>/artifacts/<str:name>", api.JobArtifactDownload, "job-artifact"),
]
