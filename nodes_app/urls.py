from django.urls import path

from nodes_app import views

app_name = "nodes_app"
urlpatterns = [path("", views.node_list, name="node_list")]
