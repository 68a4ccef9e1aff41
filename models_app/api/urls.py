from django.urls import path

from models_app.api import views

urlpatterns = [
    path("models/", views.ModelList.as_view(), name="model-list"),
    path("models/<slug:name>/", views.ModelDetail.as_view(), name="model-detail"),
]
