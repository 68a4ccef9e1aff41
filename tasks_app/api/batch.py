"""``POST /api/v1/tasks/batch``: many tasks in one request, all or nothing (issue 12).

Each item has the shape of ``POST /api/v1/tasks/{type}`` plus its ``kind``. The request is
atomic: any bad item answers 400 with one report per bad item (its index and field errors) and
creates nothing. The quota (``tasks_app.policy``) counts the whole batch; priority and time
limits are checked per item as for a single submit. Structures, models and the default model
are looked up once per request, each distinct (kind, params, preset) is validated once, the
rows go in with two INSERTs (``enqueue_tasks``) and the wake-ups in one fan-out after commit,
so a batch costs a handful of statements, not ~20 a task.
"""

import copy
import json
import uuid

from django.conf import settings
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from models_app.models import MLModel
from mofsim_site import executors
from structures_app.models import Structure
from tasks_app import callbacks
from tasks_app.api.callbacks import CallbackInfoSerializer, TaskSubmitRequestSerializer
from tasks_app.api.serializers import PriorityField
from tasks_app.models import TaskCallback
from tasks_app.params import validate_params
from tasks_app.policy import check_quota
from tasks_app.services import enqueue_tasks

SIMULATION_KINDS = [kind for kind, entry in executors.REGISTRY.items() if entry.needs_structure]


class TaskBatchItemSerializer(TaskSubmitRequestSerializer):
    """One task of a batch: the single-submit body plus its ``kind``."""

    kind = serializers.ChoiceField(choices=SIMULATION_KINDS, help_text="task type (a simulation, not a training job)")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        attrs["params"] = self._params(attrs["kind"], attrs.get("params"), attrs["preset"])
        return attrs

    def _params(self, kind: str, params, preset: str) -> dict:
        """``validate_params`` once per distinct (kind, params, preset) of the request: a campaign's
        batch repeats a few of them over many structures, and the type's serializer was about
        half of the request's validation. A bad combination's error is reported for every item
        that has it; each task gets its own copy of the validated dict."""
        key = (kind, json.dumps(params, sort_keys=True), preset)
        seen = self.context.setdefault("validated_params", {})
        if key not in seen:
            try:
                seen[key] = validate_params(kind, params, preset)
            except ValidationError as exc:
                seen[key] = ValidationError({"params": exc.detail})
        if isinstance(seen[key], ValidationError):
            raise seen[key]
        return copy.deepcopy(seen[key])


class TaskBatchRequestSerializer(serializers.Serializer):
    tasks = TaskBatchItemSerializer(many=True, allow_empty=False, help_text="at most TASK_BATCH_MAX items")


class TaskBatchItemResponseSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    priority = PriorityField()
    structure = serializers.IntegerField(source="structure_id")
    model = serializers.CharField(allow_null=True)
    callback = CallbackInfoSerializer(allow_null=True)


class TaskBatchResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    tasks = TaskBatchItemResponseSerializer(many=True)


def _lookups(request, items) -> dict:
    """Every structure id and model name the items name, fetched in one query each."""
    specs = [item for item in items if isinstance(item, dict)]
    # Filter before building sets: a value may be any JSON (a dict is unhashable); the serializer
    # reports those per item, this only prefetches what can be a real id or name.
    ids = {i for i in (s.get("structure") for s in specs) if type(i) is int and 0 < i < 2**63}
    names = {n for n in (s.get("model") for s in specs) if isinstance(n, str) and "\x00" not in n and len(n) <= 200}
    return {
        "structures": Structure.objects.visible_to(request.user).in_bulk(ids) if ids else {},
        "models": {m.name: m for m in MLModel.objects.filter(enabled=True, name__in=names)} if names else {},
    }


def _items(data) -> list:
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), list):
        raise ValidationError({"tasks": ["required: a list of task specs"]})
    items = data["tasks"]
    if len(items) > settings.TASK_BATCH_MAX:
        raise ValidationError({"tasks": [f"at most {settings.TASK_BATCH_MAX} tasks per request, got {len(items)}"]})
    return items


class TaskBatchSubmit(APIView):
    """Submit many tasks at once; all are created or none."""

    @extend_schema(
        request=TaskBatchRequestSerializer,
        responses={201: TaskBatchResponseSerializer},
        description=__doc__,
    )
    def post(self, request):
        items = _items(request.data)
        context = {"request": request, **_lookups(request, items)}
        body = TaskBatchRequestSerializer(data={"tasks": items}, context=context)
        if not body.is_valid():
            error = ValidationError()
            error.detail = {"tasks": _report(body.errors.get("tasks"))}  # set after: indexes stay numbers
            raise error
        valid = body.validated_data["tasks"]
        check_quota(request.user, len(valid))
        fields = ("kind", "params", "structure", "model", "priority", "time_limit_s")
        with transaction.atomic():
            tasks = enqueue_tasks(request.user, [{f: item.get(f) for f in fields} for item in valid])
            secrets = _attach_callbacks(tasks, valid)
        placeholder = uuid.UUID(int=0)  # one reverse() for the whole batch, not one per task
        url = reverse("api:task-detail", kwargs={"pk": placeholder}, request=request).replace(str(placeholder), "{}")
        out = [
            {"id": t.pk, "url": url.format(t.pk), "kind": t.kind,
             "status": t.status, "priority": t.priority, "structure_id": t.structure_id,
             "model": t.model.name if t.model is not None else None, "callback": _callback_info(t, secrets.get(t.pk))}
            for t in tasks
        ]  # fmt: skip
        data = TaskBatchResponseSerializer({"count": len(out), "tasks": out}).data
        return Response(data, status=status.HTTP_201_CREATED)


def _report(errors):
    """One ``{index, errors}`` per bad item (DRF keys a list's errors by index); else as DRF said."""
    if isinstance(errors, dict) and errors and all(isinstance(k, int) for k in errors):
        return [{"index": i, "errors": e} for i, e in sorted(errors.items())]  # only the bad items
    if isinstance(errors, list) and any(isinstance(e, dict) for e in errors):
        return [{"index": i, "errors": e} for i, e in enumerate(errors) if e]
    return errors


def _attach_callbacks(tasks, valid) -> dict:
    """One INSERT for every callback asked for; returns the secrets generated (shown once)."""
    rows, generated = [], {}
    for task, item in zip(tasks, valid, strict=True):
        if not item.get("callback_url"):
            continue
        secret = item.get("callback_secret") or callbacks.new_secret()
        if not item.get("callback_secret"):
            generated[task.pk] = secret
        events = list(item.get("callback_events") or callbacks.DEFAULT_EVENTS)
        rows.append(TaskCallback(task=task, url=item["callback_url"], events=events, secret=secret))
    TaskCallback.objects.bulk_create(rows)
    return generated


def _callback_info(task, secret: str | None):
    callback = getattr(task, "callback", None)
    if callback is None:
        return None
    info = {"url": callback.url, "events": callback.events}
    return {**info, "secret": secret} if secret else info
