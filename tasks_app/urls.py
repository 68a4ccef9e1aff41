from django.urls import include, path

from tasks_app import views

app_name = "tasks_app"

urlpatterns = [
    path("", views.task_list, name="task_list"),
    path("tasks/new/", views.task_submit, name="task_submit"),
    path("tasks/compare/", views.task_compare, name="task_compare"),
    path("tasks/new/params/", views.task_param_help, name="task_param_help"),
    path("tasks/new/check/", views.task_validate, name="task_validate"),
    path("tasks/<uuid:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<uuid:pk>/cancel/", views.task_cancel, name="task_cancel"),
    path("tasks/<uuid:pk>/notes/", views.task_notes, name="task_notes"),
    path("tasks/<uuid:pk>/rerun/", views.task_rerun, name="task_rerun"),
    path("tasks/<uuid:pk>/artifacts/<str:name>", views.artifact_download, name="artifact_download"),
    path("benchmarks/", include("tasks_app.benchmarks.urls")),
]
