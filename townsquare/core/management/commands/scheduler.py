from __future__ import annotations

import signal
import threading
from typing import Any

from django_rich.management import RichCommand

from townsquare.core.scheduling import run_scheduler, scheduler_tick, schedules_sync


class Command(RichCommand):
    help = "Run the recurring-job scheduler on its own (workers run it too unless started with --no-scheduler)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Enqueue whatever is due now, then exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            schedules_sync()
            names = scheduler_tick()
            self.console.print(f"Enqueued: {', '.join(names) or 'nothing was due'}")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.console.print("Scheduler running (Ctrl+C to stop)")
        run_scheduler(stop)
