"""Websocket consumers: join a group, forward rendered fragments (htmx ws extension swaps them)."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from tasks_app.events import STAFF_TASKS_GROUP, task_group, user_tasks_group
from tasks_app.models import Task


@database_sync_to_async
def _can_view(user, task_id) -> bool:
    return Task.objects.visible_to(user).filter(pk=task_id).exists()


class GroupForwardConsumer(AsyncWebsocketConsumer):
    """Base: subclasses decide the groups (or refuse); events are forwarded as HTML."""

    groups_joined: list[str]

    async def groups_for(self, user) -> list[str] | None:
        raise NotImplementedError

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        groups = await self.groups_for(user)
        if groups is None:
            await self.close(code=4404)
            return
        self.groups_joined = groups
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def task_event(self, event):
        await self.send(text_data=event["html"])


class TaskConsumer(GroupForwardConsumer):
    async def groups_for(self, user):
        task_id = self.scope["url_route"]["kwargs"]["pk"]
        return [task_group(task_id)] if await _can_view(user, task_id) else None


class TaskListConsumer(GroupForwardConsumer):
    async def groups_for(self, user):
        return [STAFF_TASKS_GROUP] if user.is_staff else [user_tasks_group(user.pk)]
