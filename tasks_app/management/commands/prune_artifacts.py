"""Delete artifacts of tasks finished more than N days ago (results stay in the database)."""

from django.core.management.base import BaseCommand

from tasks_app.retention import prune_artifacts


class Command(BaseCommand):
    help = "Delete artifact files of tasks finished more than --older-than days ago; results are kept."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, required=True, metavar="DAYS")
        parser.add_argument("--dry-run", action="store_true", help="only report what would be deleted")

    def handle(self, *args, **opts):
        summary = prune_artifacts(opts["older_than"], dry_run=opts["dry_run"])
        verb = "would delete" if opts["dry_run"] else "deleted"
        self.stdout.write(
            f"{verb} {summary['files']} files ({summary['bytes'] / 2**20:.1f} MiB) of {summary['tasks']} tasks"
        )
