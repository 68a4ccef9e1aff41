from django.urls import path

from nodes_app.api import inputs, views

urlpatterns = [
    path("nodes/", views.NodeList.as_view(), name="node-list"),
    path("nodes/heartbeat", views.Heartbeat.as_view(), name="node-heartbeat"),
    path("nodes/inputs/structures/<int:pk>", inputs.StructureInput.as_view(), name="node-input-structure"),
    path("nodes/inputs/models/<slug:name>", inputs.ModelInput.as_view(), name="node-input-model"),
    path("nodes/<int:pk>/enable", views.NodeToggle.as_view(enable=True), name="node-enable"),
    path("nodes/<int:pk>/disable", views.NodeToggle.as_view(enable=False), name="node-disable"),
    path("nodes/commands/", views.NodeCommandList.as_view(), name="node-commands"),
    path("models/<slug:name>/load", views.ModelCommand.as_view(action="load"), name="model-load"),
    path("models/<slug:name>/unload", views.ModelCommand.as_view(action="unload"), name="model-unload"),
]
