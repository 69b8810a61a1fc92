from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django_rich.management import RichCommand

from townsquare.core.scheduling import run_scheduler


class Command(RichCommand):
    help = "Run background tasks (and, unless --no-scheduler, the recurring-job scheduler)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--queue", action="append", dest="queues", help="Queue to work on (repeatable); default all."
        )
        parser.add_argument("--no-scheduler", action="store_true", help="Do not run the scheduler in this process.")
        parser.add_argument("--batch", action="store_true", help="Run what is queued, then exit (database backend).")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between polls (database backend).")

    def handle(self, *args: Any, **options: Any) -> None:
        backend = settings.TASKS_BACKEND
        if backend == "immediate":
            raise CommandError(
                "TOWNSQUARE_TASKS_BACKEND=immediate runs tasks in the web process; there is nothing for a worker to do"
            )
        stop = threading.Event()
        if settings.SCHEDULER_ENABLED and not options["no_scheduler"] and not options["batch"]:
            threading.Thread(target=run_scheduler, args=(stop,), name="scheduler", daemon=True).start()
        queues = options["queues"] or list(settings.TASKS["default"]["QUEUES"])
        self.console.print(f"Worker on the {backend} backend, queues: {', '.join(queues)}")
        try:
            if backend == "database":
                call_command(
                    "db_worker",
                    queue_name=",".join(queues),
                    interval=options["interval"],
                    batch=options["batch"],
                    startup_delay=False,
                    verbosity=options["verbosity"],
                )
            else:
                call_command("rqworker", *queues, job_class="django_tasks_rq.Job", burst=options["batch"])
        finally:
            stop.set()
