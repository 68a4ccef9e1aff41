from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from alerts_app.models import Alert, AlertRule


@login_required
def alert_list(request):
    rules = AlertRule.objects.filter(owner=request.user)
    alerts = Alert.objects.filter(rule__owner=request.user).select_related("rule")[:100]
    return render(request, "alerts_app/alert_list.html", {"rules": rules, "alerts": alerts})
