from django.urls import path

from models_app import views

app_name = "models_app"
urlpatterns = [
    path("", views.model_list, name="model_list"),
    path("datasets/", views.dataset_list, name="dataset_list"),
    path("<str:name>/", views.model_detail, name="model_detail"),
]
