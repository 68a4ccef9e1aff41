from nodes_app.events import NODES_GROUP
from tasks_app.consumers import GroupForwardConsumer


class NodeListConsumer(GroupForwardConsumer):
    """Live node pool: every signed-in user may watch node health (no task data in it)."""

    async def groups_for(self, user):
        return [NODES_GROUP]

    async def node_event(self, event):
        await self.send(text_data=event["html"])
