"""``/api/v1/``: each app's API plus auth and the OpenAPI schema."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from mofsim_site.api import system
from mofsim_site.api.auth import LoginView, LogoutView, PersonalTokenView, RefreshView

app_name = "api"

urlpatterns = [
    path("auth/login", LoginView.as_view(), name="login"),
    path("auth/refresh", RefreshView.as_view(), name="refresh"),
    path("auth/logout", LogoutView.as_view(), name="logout"),
    path("auth/token", PersonalTokenView.as_view(), name="personal-token"),
    path("health", system.Health.as_view(), name="health"),
    path("system/gpus", system.SystemGpus.as_view(), name="system-gpus"),
    path("system/queue", system.SystemQueue.as_view(), name="system-queue"),
    path("system/config", system.SystemConfig.as_view(), name="system-config"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"), name="redoc"),
    path("", include("tasks_app.api.urls")),
    path("", include("tasks_app.benchmarks.api_urls")),
    path("", include("models_app.training.urls")),
    path("", include("structures_app.api.urls")),
    path("", include("models_app.api.urls")),
    path("", include("nodes_app.api.urls")),
    path("", include("alerts_app.api.urls")),
]
