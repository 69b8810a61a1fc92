"""Outbox throughput: deliver pending notifications to a local endpoint with worker processes.

    .venv/bin/python benchmarks/outbox.py [--notifications 20000] [--workers 2] [--database-url URL]

Records NOTIFICATIONS notifications (one event each) for a json:// destination on a
local HTTP server (127.0.0.1), each enqueuing its delivery task, then starts WORKERS
`townsquare worker --batch` processes and measures deliveries per second at the
endpoint, and the workers' peak RSS (to show the backlog drains without memory growth).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import ROOT, fresh_django


class Endpoint:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with endpoint.lock:
                    endpoint.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notifications", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with fresh_django(args.database_url):
        from django.db import connection, transaction

        from townsquare.notify import services
        from townsquare.notify.models import Notification

        endpoint = Endpoint()
        url = f"json://127.0.0.1:{endpoint.server.server_address[1]}/hook"
        services.destination_save(name="bench", url=url, purposes=["alerts"], enabled=True)
        start = time.perf_counter()
        chunk = 1000
        for offset in range(0, args.notifications, chunk):
            with transaction.atomic():
                for n in range(offset, min(offset + chunk, args.notifications)):
                    services.notification_enqueue(
                        event_key=f"bench:{n}",
                        title=f"Task {n} finished",
                        body="Thanks to everyone who helped.",
                        purpose="alerts",
                    )
        print(
            f"[{connection.vendor}] recorded {args.notifications:,} notifications in {time.perf_counter() - start:.1f} s"
        )
        db_url = args.database_url or f"sqlite:///{connection.settings_dict['NAME']}"
        env = {**os.environ, "TOWNSQUARE_DATABASE_URL": db_url, "TOWNSQUARE_TASKS_BACKEND": "database"}
        start = time.perf_counter()
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "townsquare.cli", "worker", "--batch", "--queue", "notify", "--interval", "0"],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(args.workers)
        ]
        samples = []
        while any(w.poll() is None for w in workers):
            time.sleep(1)
            samples.append((time.perf_counter() - start, endpoint.count))
        elapsed = time.perf_counter() - start
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        sent = Notification.objects.filter(status=Notification.Status.SENT).count()
        print(
            f"[{connection.vendor}] {args.workers} workers delivered {endpoint.count:,} messages "
            f"({sent:,} marked sent) in {elapsed:.1f} s = {endpoint.count / elapsed:,.0f}/s"
        )
        third = len(samples) // 3 or 1
        if len(samples) >= 3:
            first_rate = samples[third][1] / samples[third][0]
            last_rate = (samples[-1][1] - samples[-third][1]) / max(samples[-1][0] - samples[-third][0], 1e-9)
            print(f"[{connection.vendor}] rate in the first third {first_rate:,.0f}/s, last third {last_rate:,.0f}/s")
        print(f"[{connection.vendor}] largest worker peak RSS {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
