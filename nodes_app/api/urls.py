from django.urls import path

from mofsim_site.routes import slashed
from nodes_app.api import inputs, views

urlpatterns = [
    path("nodes/", views.NodeList.as_view(), name="node-list"),
    *slashed("nodes/heartbeat", views.Heartbeat, "node-heartbeat"),
    *slashed("nodes/inputs/structures/<int:pk>", inputs.StructureInput, "node-input-structure"),
    *slashed("nodes/inputs/models/<slug:name>", inputs.ModelInput, "node-input-model"),
    *slashed("nodes/<int:pk>/enable", views.NodeToggle, "node-enable", enable=True),
    *slashed("nodes/<int:pk>/disable", views.NodeToggle, "node-disable", enable=False),
    path("nodes/commands/", views.NodeCommandList.as_view(), name="node-commands"),
    *slashed("models/<slug:name>/load", views.ModelCommand, "model-load", action="load"),
    *slashed("models/<slug:name>/unload", views.ModelCommand, "model-unload", action="unload"),
]
