"""Websocket URL patterns gathered from each app's routing.py."""

from nodes_app.routing import websocket_urlpatterns as nodes_ws
from tasks_app.routing import websocket_urlpatterns as tasks_ws

websocket_urlpatterns = [*tasks_ws, *nodes_ws]
