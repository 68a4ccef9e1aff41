from rest_framework import serializers

from alerts_app.models import Alert, AlertRule
from alerts_app.transports import TransportError, validate_webhook_url


class AlertRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertRule
        fields = [
            "id", "name", "event", "transport", "target", "threshold", "only_own_tasks", "enabled", "secret",
            "created_at",
        ]  # fmt: skip
        read_only_fields = ["secret"]  # generated; rules are only ever shown to their owner

    def validate(self, attrs):
        transport = attrs.get("transport", getattr(self.instance, "transport", None))
        target = attrs.get("target", getattr(self.instance, "target", ""))
        if transport == "webhook":
            try:
                validate_webhook_url(target)
            except TransportError as exc:
                raise serializers.ValidationError({"target": [str(exc)]}) from exc
        elif transport == "email":
            serializers.EmailField().run_validation(target)
        event = attrs.get("event", getattr(self.instance, "event", None))
        user = self.context["request"].user
        if event in ("node_offline", "queue_depth") and not user.is_staff:
            raise serializers.ValidationError({"event": ["only operators (staff) can subscribe to pool events"]})
        return attrs


class AlertSerializer(serializers.ModelSerializer):
    rule = serializers.StringRelatedField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "rule",
            "event",
            "subject",
            "message",
            "payload",
            "delivery",
            "delivery_error",
            "created_at",
            "delivered_at",
        ]
