from django.urls import path

from models_app.api import datasets, views

urlpatterns = [
    path("models/", views.ModelList.as_view(), name="model-list"),
    path("models/<slug:name>/", views.ModelDetail.as_view(), name="model-detail"),
    path("datasets/", datasets.DatasetList.as_view(), name="dataset-list"),
    path("datasets/import-sqlite", datasets.DatasetImportSqlite.as_view(), name="dataset-import-sqlite"),
    path("datasets/<uuid:pk>/", datasets.DatasetDetail.as_view(), name="dataset-detail"),
    path("datasets/<uuid:pk>/download", datasets.DatasetDownload.as_view(), name="dataset-download"),
]
