from django.urls import path

from nodes_app import consumers

websocket_urlpatterns = [path("ws/nodes/", consumers.NodeListConsumer.as_asgi())]
