from rest_framework import generics

from alerts_app.api.serializers import AlertRuleSerializer, AlertSerializer
from alerts_app.models import Alert, AlertRule


class RuleList(generics.ListCreateAPIView):
    serializer_class = AlertRuleSerializer

    def get_queryset(self):
        return AlertRule.objects.filter(owner=self.request.user).order_by("name")

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)


class RuleDetail(generics.RetrieveUpdateDestroyAPIView):
    serializer_class = AlertRuleSerializer

    def get_queryset(self):
        return AlertRule.objects.filter(owner=self.request.user)


class AlertList(generics.ListAPIView):
    serializer_class = AlertSerializer

    def get_queryset(self):
        return Alert.objects.filter(rule__owner=self.request.user).select_related("rule").order_by("-created_at")
