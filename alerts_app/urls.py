from django.urls import path

from alerts_app import views

app_name = "alerts_app"
urlpatterns = [
    path("", views.alert_list, name="alert_list"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
