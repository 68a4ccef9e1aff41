from django.urls import path

from alerts_app.api import views

urlpatterns = [
    path("alerts/rules/", views.RuleList.as_view(), name="alertrule-list"),
    path("alerts/rules/<int:pk>/", views.RuleDetail.as_view(), name="alertrule-detail"),
    path("alerts/", views.AlertList.as_view(), name="alert-list"),
]
