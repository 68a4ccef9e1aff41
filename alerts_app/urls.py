from django.urls import path

from alerts_app import views

app_name = "alerts_app"
urlpatterns = [path("", views.alert_list, name="alert_list")]
