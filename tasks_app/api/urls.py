from django.urls import path

from mofsim_site.routes import slashed
from tasks_app.api import batch, callbacks, stream, views

urlpatterns = [
    path("tasks/", views.TaskList.as_view(), name="task-list"),
    *slashed("tasks/batch", batch.TaskBatchSubmit, "task-batch"),
    path("tasks/types/", views.TaskTypeList.as_view(), name="task-types"),
    path("tasks/<uuid:pk>/", views.TaskDetail.as_view(), name="task-detail"),
    path("tasks/<uuid:pk>/result/", views.TaskResult.as_view(), name="task-result"),
    path("tasks/<uuid:pk>/cancel/", views.TaskCancel.as_view(), name="task-cancel"),
    path("tasks/<uuid:pk>/rerun/", views.TaskRerun.as_view(), name="task-rerun"),
    path("tasks/<uuid:pk>/logs/", views.TaskLogs.as_view(), name="task-logs"),
    *slashed("tasks/<uuid:pk>/logs/stream", stream.task_log_stream, "task-logs-stream"),
    path("tasks/<uuid:pk>/metrics/", views.TaskMetrics.as_view(), name="task-metrics"),
    path("tasks/<uuid:pk>/artifacts/", views.TaskArtifacts.as_view(), name="task-artifacts"),
    path("tasks/<uuid:pk>/callbacks/", callbacks.TaskCallbacks.as_view(), name="task-callbacks"),
    *slashed("tasks/<uuid:pk>/artifacts/<str:name>", views.TaskArtifactDownload, "task-artifact"),
    *slashed("tasks/<slug:kind>/estimate", views.TaskEstimate, "task-estimate"),
    *slashed("tasks/<slug:kind>", views.TaskSubmit, "task-submit"),
]
