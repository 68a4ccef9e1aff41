"""Reap silent nodes and re-send lost wake-ups; ``--loop`` keeps doing it (SIGTERM stops)."""

import signal
import time

from django.core.management.base import BaseCommand

from nodes_app.housekeeping import housekeeping_pass


class Command(BaseCommand):
    help = "Mark silent nodes offline (failing their tasks over) and re-send lost task messages."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true")
        parser.add_argument("--interval", type=float, default=15.0)

    def handle(self, *args, **opts):
        running = {"flag": True}
        signal.signal(signal.SIGTERM, lambda *a: running.update(flag=False))
        while True:
            summary = housekeeping_pass()
            if any(summary.values()):
                self.stdout.write(str(summary))
            if not opts["loop"] or not running["flag"]:
                break
            time.sleep(opts["interval"])
