"""The alerts page's rule form: the same checks as the API (``AlertRuleSerializer``), so a rule
made on the page is one the API would have accepted (webhook URL rules, e-mail syntax, pool
events for staff only)."""

from types import SimpleNamespace

from django import forms

from alerts_app.api.serializers import AlertRuleSerializer
from alerts_app.models import AlertRule


class AlertRuleForm(forms.ModelForm):
    class Meta:
        model = AlertRule
        fields = ["name", "event", "transport", "target", "threshold", "only_own_tasks", "enabled"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        payload = {k: v for k, v in data.items() if v is not None}
        serializer = AlertRuleSerializer(data=payload, context={"request": SimpleNamespace(user=self.user)})
        if not serializer.is_valid():
            for field, messages in serializer.errors.items():
                for message in messages if isinstance(messages, list) else [messages]:
                    self.add_error(field if field in self.fields else None, str(message))
        return data

    def save(self, commit=True):
        self.instance.owner = self.user
        return super().save(commit)
