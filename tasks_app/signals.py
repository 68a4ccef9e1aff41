"""Task events other apps subscribe to (the task core never calls them; DESIGN.md rule 10).

Sent from ``tasks_app.events`` after the transaction that changed the row has committed, so a
receiver never sees a state the database does not have. Receivers must not raise; one that
does is logged and the others still run (``send_robust``).
"""

from django.dispatch import Signal

# sender=Task class; kwargs: task (a snapshot of the row after the transition), previous (state before)
task_status_changed = Signal()
