from django.urls import path

from structures_app.api import views

urlpatterns = [
    path("structures/", views.StructureListUpload.as_view(), name="structure-list"),
    path("structures/<int:pk>/", views.StructureDetail.as_view(), name="structure-detail"),
    path("structure-sets/", views.StructureSetList.as_view(), name="structureset-list"),
]
