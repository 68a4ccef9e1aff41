from django.urls import path

from structures_app import views

app_name = "structures_app"

urlpatterns = [
    path("", views.structure_list, name="structure_list"),
    path("upload/", views.structure_upload, name="structure_upload"),
    path("<int:pk>/", views.structure_detail, name="structure_detail"),
    path("<int:pk>/download.<str:fmt>", views.structure_download, name="structure_download"),
]
