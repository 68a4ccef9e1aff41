"""The alerts page: your rules (create with the form, switch on/off, delete) and your alert history."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from alerts_app.forms import AlertRuleForm
from alerts_app.models import Alert, AlertRule


@login_required
def alert_list(request):
    form = AlertRuleForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        rule = form.save()
        messages.success(request, f"Rule {rule.name} created.")
        return redirect("alerts_app:alert_list")
    rules = AlertRule.objects.filter(owner=request.user)
    alerts = Alert.objects.filter(rule__owner=request.user).select_related("rule")[:100]
    status = 400 if request.method == "POST" else 200
    return render(
        request, "alerts_app/alert_list.html", {"rules": rules, "alerts": alerts, "form": form}, status=status
    )


@login_required
@require_POST
def rule_toggle(request, pk):
    rule = get_object_or_404(AlertRule, owner=request.user, pk=pk)
    rule.enabled = not rule.enabled
    rule.save(update_fields=["enabled"])
    messages.info(request, f"Rule {rule.name} switched {'on' if rule.enabled else 'off'}.")
    return redirect("alerts_app:alert_list")


@login_required
@require_POST
def rule_delete(request, pk):
    rule = get_object_or_404(AlertRule, owner=request.user, pk=pk)
    rule.delete()
    messages.info(request, f"Rule {rule.name} deleted.")
    return redirect("alerts_app:alert_list")
