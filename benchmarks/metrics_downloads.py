"""Downloads page and community-activity recompute at scale.

    .venv/bin/python benchmarks/metrics_downloads.py [--messages 100000] [--packages 20] [--runs 40] [--database-url URL]

Loads the Acme Cloud demo downloads, adds ``--packages`` more packages with two years of daily counts,
bulk-creates ``--messages`` community messages (plus 5 % staff and bots) over two years, then times the
community activity recompute and GET /value/downloads/ as an executive: sequentially and from 8 concurrent
clients. Prints milliseconds (median, p95) and queries per render.

Its "8 clients" are threads in this one process, sharing one GIL with each other and with the view: that
measures contention, not a server. ``benchmarks/value_pages.py`` drives the served page (gunicorn, 2 workers)
from separate client processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import fresh_django


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--packages", type=int, default=20)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with fresh_django(args.database_url):
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from townsquare.core.roles import Role
        from townsquare.metrics.demo import downloads_demo_load
        from townsquare.metrics.downloads.base import DailyCounts
        from townsquare.metrics.services import downloads as services
        from townsquare.people.models import Identity, Member
        from townsquare.people.services import user_ensure
        from townsquare.sources.models import Channel, Message, Source

        today = timezone.now().astimezone(dt.UTC).date()
        started = time.perf_counter()
        downloads_demo_load(today=today)
        for i in range(args.packages):
            package = services.package_add(registry="npm", name=f"bench-package-{i}")
            days = {today - dt.timedelta(days=d): 100 + (d * 7 + i) % 50 for d in range(1, 731)}
            services.package_store(package=package, result=DailyCounts(days=days), today=today)
        source = Source.objects.create(name="bench", kind="slack_export")
        channel = Channel.objects.create(source=source, external_id="c1", name="#general")
        members = Member.objects.bulk_create(
            [Member(display_name=f"m{i}", is_staff=i % 40 == 0, is_bot=i % 97 == 0) for i in range(5000)]
        )
        identities = Identity.objects.bulk_create(
            [Identity(realm="bench", external_id=str(m.pk), member=m) for m in members]
        )
        start = timezone.now() - dt.timedelta(days=730)
        step = dt.timedelta(days=730) / max(1, args.messages)
        batch = []
        for i in range(args.messages):
            batch.append(
                Message(
                    source=source,
                    channel=channel,
                    external_id=f"m{i}",
                    kind="chat",
                    author=identities[(i * 7919) % len(identities)],
                    created_at=start + step * i,
                    content_hash=f"{i:064x}",
                )
            )
            if len(batch) == 5000:
                Message.objects.bulk_create(batch)
                batch = []
        Message.objects.bulk_create(batch)
        print(
            f"set-up: {time.perf_counter() - started:.1f} s ({args.messages:,} messages, {args.packages + 4} packages)"
        )

        t0 = time.perf_counter()
        services.community_activity_recompute(today=today)
        print(f"community activity recompute: {(time.perf_counter() - t0) * 1000:.0f} ms")

        user = user_ensure(username="erin", email="erin@example.com", full_name="Erin", role=Role.EXECUTIVE,
                           team=None, is_lead=False, password="bench-password-123")  # fmt: skip

        def client() -> Client:
            c = Client()
            c.force_login(user)
            return c

        c = client()
        assert c.get("/value/downloads/").status_code == 200
        with CaptureQueriesContext(connection) as queries:
            c.get("/value/downloads/")
        samples = []
        for _ in range(args.runs):
            t = time.perf_counter()
            c.get("/value/downloads/")
            samples.append((time.perf_counter() - t) * 1000)
        print(f"GET /value/downloads/ sequential: median {statistics.median(samples):.0f} ms, "
              f"p95 {sorted(samples)[int(len(samples) * 0.95) - 1]:.0f} ms, {len(queries)} queries")  # fmt: skip

        concurrent: list[float] = []
        lock = threading.Lock()

        def worker() -> None:
            own = client()
            for _ in range(max(1, args.runs // 8)):
                t = time.perf_counter()
                own.get("/value/downloads/")
                with lock:
                    concurrent.append((time.perf_counter() - t) * 1000)
            connection.close()

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        concurrent.sort()
        print(f"GET /value/downloads/ 8 clients: median {statistics.median(concurrent):.0f} ms, "
              f"p95 {concurrent[int(len(concurrent) * 0.95) - 1]:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
