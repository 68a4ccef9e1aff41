"""Callback fields of the submit body and the delivery log endpoint (issue 14).

``TaskSubmitRequestSerializer`` = ``TaskSubmitSerializer`` + ``CallbackSubmitFields``, so the
three fields and their checks live here, not in the core serializer: the URL passes the same
address checks as alert webhooks (``mofsim_site.webhooks.validate_url``), events must be states,
the secret is write-only — when none is given one is generated and returned once in the submit
response.
"""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from mofsim_site import webhooks
from tasks_app import callbacks
from tasks_app.api.access import get_task
from tasks_app.api.serializers import TaskDetailSerializer, TaskSubmitSerializer
from tasks_app.choices import TaskStatus
from tasks_app.models import CallbackDelivery

CALLBACK_STATES = [s for s in TaskStatus.values if s != TaskStatus.PENDING]  # PENDING is never entered


class CallbackSubmitFields(serializers.Serializer):
    callback_url = serializers.URLField(required=False, max_length=2000, help_text="POSTed on state changes")
    callback_events = serializers.ListField(
        child=serializers.ChoiceField(choices=CALLBACK_STATES), required=False, allow_empty=False,
        help_text=f"states that trigger a POST; default {', '.join(callbacks.DEFAULT_EVENTS)}",
    )  # fmt: skip
    callback_secret = serializers.CharField(
        required=False, write_only=True, min_length=16, max_length=128,
        help_text="HMAC key for X-Mofsim-Signature; generated (and returned once) when omitted",
    )  # fmt: skip

    def validate_callback_url(self, url):
        try:
            return webhooks.validate_url(url)
        except webhooks.WebhookError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate_callback_events(self, events):
        return list(dict.fromkeys(events))

    def validate(self, attrs):
        if not attrs.get("callback_url") and (attrs.get("callback_events") or attrs.get("callback_secret")):
            raise serializers.ValidationError({"callback_url": ["required with callback_events or callback_secret"]})
        return super().validate(attrs)

    def attach_callback(self, task) -> str | None:
        """Store the task's callback if one was asked for; returns a generated secret (else None)."""
        data = self.validated_data
        if not data.get("callback_url"):
            return None
        generated = None if data.get("callback_secret") else callbacks.new_secret()
        secret = data.get("callback_secret") or generated
        callbacks.attach(task, data["callback_url"], data.get("callback_events"), secret)
        return generated


class TaskSubmitRequestSerializer(CallbackSubmitFields, TaskSubmitSerializer):
    """Body of ``POST /api/v1/tasks/{type}``: the task, and optionally its callback."""


class CallbackInfoSerializer(serializers.Serializer):
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.CharField())
    secret = serializers.CharField(required=False, help_text="only in the submit response, when generated")


class TaskSubmitResponseSerializer(TaskDetailSerializer):
    """The created task, plus its callback (with the generated secret, this one time)."""

    callback = serializers.SerializerMethodField()

    class Meta(TaskDetailSerializer.Meta):
        fields = [*TaskDetailSerializer.Meta.fields, "callback"]

    @extend_schema_field(CallbackInfoSerializer(allow_null=True))
    def get_callback(self, obj):
        callback = getattr(obj, "callback", None)
        if callback is None:
            return None
        info = {"url": callback.url, "events": callback.events}
        if self.context.get("generated_secret"):
            info["secret"] = self.context["generated_secret"]
        return info


class CallbackDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = CallbackDelivery
        fields = ["delivery_id", "event", "attempt", "outcome", "status_code", "error", "duration_ms",
                  "next_retry_at", "created_at"]  # fmt: skip


class TaskCallbacksSerializer(serializers.Serializer):
    callback = CallbackInfoSerializer(allow_null=True)
    deliveries = CallbackDeliverySerializer(many=True)


class TaskCallbacks(APIView):
    """The task's callback (URL, events; never the secret) and one row per delivery attempt."""

    @extend_schema(responses=TaskCallbacksSerializer)
    def get(self, request, pk):
        task = get_task(request, pk)
        callback = getattr(task, "callback", None)
        info = {"url": callback.url, "events": callback.events} if callback else None
        deliveries = task.callback_deliveries.order_by("id")
        return Response(TaskCallbacksSerializer({"callback": info, "deliveries": deliveries}).data)
