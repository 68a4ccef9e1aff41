"""``/api/v1/``: each app's API plus auth and the OpenAPI schema.

Every endpoint ends in ``/``; the ones first published without it answer there too
(``mofsim_site.routes.slashed``, docs/architecture.md "URLs").
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from mofsim_site.api import system
from mofsim_site.api.auth import LoginView, LogoutView, PersonalTokenView, RefreshView
from mofsim_site.routes import slashed

app_name = "api"

urlpatterns = [
    *slashed("auth/login", LoginView, "login"),
    *slashed("auth/refresh", RefreshView, "refresh"),
    *slashed("auth/logout", LogoutView, "logout"),
    *slashed("auth/token", PersonalTokenView, "personal-token"),
    *slashed("health", system.Health, "health"),
    *slashed("system/gpus", system.SystemGpus, "system-gpus"),
    *slashed("system/queue", system.SystemQueue, "system-queue"),
    *slashed("system/config", system.SystemConfig, "system-config"),
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
