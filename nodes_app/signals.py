"""Node events other apps subscribe to (alerts), sent after the change is committed."""

from django.dispatch import Signal

# kwargs: node (the WorkerNode just marked offline)
node_went_offline = Signal()
# kwargs: summary (what one housekeeping pass did) — a place for periodic checks such as queue depth
housekeeping_done = Signal()
