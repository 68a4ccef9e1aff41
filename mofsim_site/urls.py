from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from mofsim_site.metrics import metrics_view
from mofsim_site.views import health

admin.site.site_header = "mofsim operator console"
admin.site.site_title = "mofsim admin"

urlpatterns = [
    path("health/", health, name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("mofsim_site.api_urls", namespace="api")),
    path("structures/", include("structures_app.urls")),
    path("models/", include("models_app.urls")),
    path("nodes/", include("nodes_app.urls")),
    path("alerts/", include("alerts_app.urls")),
    path("", include("tasks_app.urls")),
]

handler400 = "mofsim_site.views.bad_request"
handler403 = "mofsim_site.views.permission_denied"
handler404 = "mofsim_site.views.not_found"
handler500 = "mofsim_site.views.server_error"
