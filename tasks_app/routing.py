from django.urls import path

from tasks_app import consumers

websocket_urlpatterns = [
    path("ws/tasks/", consumers.TaskListConsumer.as_asgi()),
    path("ws/tasks/<uuid:pk>/", consumers.TaskConsumer.as_asgi()),
]
