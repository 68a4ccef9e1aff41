"""Delete the rows old finished tasks leave behind (log lines, metric points, attempts, callback
deliveries) and django_dramatiq's rows of finished messages; task rows and results are kept."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tasks_app.retention import TASK_ROWS, prune_dramatiq_messages, prune_task_rows


class Command(BaseCommand):
    help = (
        "Delete log lines, metric points, attempt history and callback deliveries of tasks finished more "
        "than --older-than days ago (default TASK_ROW_RETENTION_DAYS), and finished Dramatiq message rows "
        "older than --messages-older-than seconds (default DRAMATIQ_MESSAGE_RETENTION_S). Results are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, metavar="DAYS", default=None)
        parser.add_argument("--messages-older-than", type=int, metavar="SECONDS", default=None)

    def handle(self, *args, **opts):
        days = settings.TASK_ROW_RETENTION_DAYS if opts["older_than"] is None else opts["older_than"]
        seconds = opts["messages_older_than"]
        if days < 0 or (seconds is not None and seconds < 0):
            raise CommandError("--older-than and --messages-older-than must be 0 or more")
        if days == 0:
            self.stdout.write("task rows: kept (retention 0 = forever)")
        else:
            rows = prune_task_rows(older_than_days=days)
            counts = ", ".join(f"{rows[key]} {key.replace('_', ' ')}" for key in TASK_ROWS)
            self.stdout.write(f"deleted {counts} of {rows['tasks']} tasks finished more than {days} days ago")
        messages = prune_dramatiq_messages(older_than_s=seconds)
        self.stdout.write(f"deleted {messages} finished message rows")
