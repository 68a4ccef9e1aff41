from django.urls import path

from nodes_app.api import views

urlpatterns = [
    path("nodes/", views.NodeList.as_view(), name="node-list"),
    path("nodes/heartbeat", views.Heartbeat.as_view(), name="node-heartbeat"),
    path("nodes/<int:pk>/enable", views.NodeToggle.as_view(enable=True), name="node-enable"),
    path("nodes/<int:pk>/disable", views.NodeToggle.as_view(enable=False), name="node-disable"),
]
