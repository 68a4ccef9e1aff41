"""Load the built-in MOFSimBench structure sets (idempotent: existing structures are reused)."""

from django.core.management.base import BaseCommand, CommandError

from structures_app.builtin import SETS, load_set


class Command(BaseCommand):
    help = "Load the built-in MOFSimBench structure sets from data/mofsimbench."

    def add_arguments(self, parser):
        parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, from {', '.join(SETS)}")

    def handle(self, *args, **opts):
        slugs = [s.strip() for s in opts["sets"].split(",") if s.strip()]
        unknown = [s for s in slugs if s not in SETS]
        if unknown:
            raise CommandError(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")
        for slug in slugs:
            structure_set = load_set(slug)
            self.stdout.write(f"{slug}: {structure_set.structures.count()} structures")
