from django.urls import path

from models_app.api import datasets, views
from mofsim_site.routes import slashed

urlpatterns = [
    path("models/", views.ModelList.as_view(), name="model-list"),
    path("models/<slug:name>/", views.ModelDetail.as_view(), name="model-detail"),
    path("datasets/", datasets.DatasetList.as_view(), name="dataset-list"),
    *slashed("datasets/import-sqlite", datasets.DatasetImportSqlite, "dataset-import-sqlite"),
    path("datasets/<uuid:pk>/", datasets.DatasetDetail.as_view(), name="dataset-detail"),
    *slashed("datasets/<uuid:pk>/download", datasets.DatasetDownload, "dataset-download"),
]
