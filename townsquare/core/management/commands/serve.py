from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django_rich.management import RichCommand
from gunicorn.app.base import BaseApplication

# Gunicorn's default access-log line, with the path instead of the request line and no referrer: query
# strings (private feed tokens, searches) are never written to the log.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'


class TownsquareServer(BaseApplication):
    """Gunicorn (a production WSGI server) configured from code, so no config file is needed."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from townsquare.wsgi import application

        return application


class Command(RichCommand):
    help = "Serve the web UI and API with gunicorn; --with-worker also runs a background worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=settings.SERVE_BIND)
        parser.add_argument("--workers", type=int, default=settings.SERVE_WORKERS)
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument("--with-worker", action="store_true", help="Start `townsquare worker` beside the server.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        worker = None
        if options["with_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "townsquare.cli", "worker"])
        self.console.print(f"Serving on [bold]http://{options['bind']}[/bold] (Ctrl+C to stop)")
        try:
            TownsquareServer(
                {
                    "bind": options["bind"],
                    "workers": options["workers"],
                    "threads": options["threads"],
                    "worker_class": "gthread",
                    "accesslog": "-",
                    "access_log_format": ACCESS_LOG_FORMAT,
                    "timeout": 60,
                }
            ).run()
        finally:
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)
