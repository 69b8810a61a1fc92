"""The theme inbox with each filter, and a 100-message theme page, under concurrent clients.

    .venv/bin/python benchmarks/feedback_inbox.py [--messages 1000000] [--themes 5000] [--clients 4]
        [--runs 10] [--database-url URL]

Seeds the store with report_build.py's corpus (MESSAGES over 52 weeks, 50,000 people, 800 customer
accounts, a third of the messages in THEMES themes routed to six departments), labels each theme message
with a kind, refreshes every theme's counts and score with the product's ``theme_refresh``, then GETs each
URL below RUNS times from each of CLIENTS threads (one test client and database connection each) and
prints p50/p95 per URL. Target (issue 16): every inbox URL and the theme page <= 200 ms p95 under 4
clients at 1,000,000 messages and 5,000 themes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import threading
import time

from harness import cpu_model, fresh_django
from report_build import seed

KINDS = ["bug", "feature", "question", "complaint", "praise"]


def label_and_refresh() -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from townsquare.feedback import services
    from townsquare.feedback.models import Theme

    start = time.perf_counter()
    kind = "CASE message_id %% 5 " + " ".join(f"WHEN {i} THEN '{k}'" for i, k in enumerate(KINDS)) + " END"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO feedback_classification (message_id, message_version, kind, docs_gap, confidence, updated_at)"
            f" SELECT message_id, 1, {kind}, message_id %% 7 = 0, 0.9, %s FROM feedback_thememessage",
            [timezone.now()],
        )
    ids = list(Theme.objects.values_list("pk", flat=True))
    for offset in range(0, len(ids), 500):
        services.theme_refresh(theme_ids=ids[offset : offset + 500], phrases_too=False, incremental=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # planner statistics, as autovacuum keeps them on a live database
            cursor.execute("ANALYZE")
    print(f"labelled theme messages and refreshed {len(ids):,} themes in {time.perf_counter() - start:.0f} s")


def urls(end: dt.date) -> list[tuple[str, str]]:
    from django.db.models import F, Func

    from townsquare.feedback.models import Theme
    from townsquare.people.models import Team
    from townsquare.sources.models import Source

    source = Source.objects.order_by("pk").first()
    team = Team.objects.order_by("pk").first()
    assert source is not None and team is not None
    hundred = (
        Theme.objects.annotate(distance=Func(F("message_count") - 100, function="ABS")).order_by("distance").first()
    )
    assert hundred is not None
    month = (end - dt.timedelta(days=30)).isoformat()
    inbox = "/feedback/"
    return [
        ("inbox (Live, by score)", inbox),
        ("inbox page 3", f"{inbox}?page=3"),
        ("single reports", f"{inbox}?view=single"),
        ("kind=bug", f"{inbox}?kind=bug"),
        ("channel", f"{inbox}?source={source.pk}"),
        ("department", f"{inbox}?department={team.pk}"),
        ("customer tier", f"{inbox}?tier=enterprise"),
        ("status=open, by people", f"{inbox}?status=open&sort=-people"),
        ("last 30 days (period rank)", f"{inbox}?since={month}&until={end.isoformat()}"),
        ("30 days + tier + kind", f"{inbox}?since={month}&until={end.isoformat()}&tier=business&kind=feature"),
        ("all time (period rank)", f"{inbox}?since=2000-01-01"),
        ("csv, channel", f"/feedback/export/?source={source.pk}"),
        (f"theme page ({hundred.message_count} msgs)", hundred.get_absolute_url()),
    ]


def hammer(user: object, targets: list[tuple[str, str]], runs: int, out: dict[str, list[float]]) -> None:
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    try:
        for _ in range(runs):
            for name, url in targets:
                started = time.perf_counter()
                response = client.get(url)
                if response.streaming:
                    b"".join(response.streaming_content)  # type: ignore[attr-defined]
                assert response.status_code == 200, (url, response.status_code)
                out.setdefault(name, []).append((time.perf_counter() - started) * 1000)
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--themes", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with fresh_django(args.database_url):
        from django.db import connection
        from django.test import Client

        from townsquare.core.roles import Role
        from townsquare.core.weeks import week_bounds
        from townsquare.people.services import user_ensure

        week = seed(args.messages, args.themes)
        label_and_refresh()
        end = week_bounds(week)[1].date()
        user = user_ensure(
            username="curator", email="c@example.com", full_name="Cu Rator", role=Role.DEVREL_MEMBER, password="x"
        )
        targets = urls(end)
        warm = Client()
        warm.force_login(user)
        for _name, url in targets:
            assert warm.get(url).status_code == 200, url
        samples: list[dict[str, list[float]]] = [{} for _ in range(args.clients)]
        threads = [
            threading.Thread(target=hammer, args=(user, targets, args.runs, samples[i])) for i in range(args.clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        load = os.getloadavg()
        print(f"{cpu_model()}; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)")
        print(
            f"[{connection.vendor}] {args.messages:,} messages, {args.themes:,} themes, {args.clients} clients,"
            f" {args.runs} runs each ({wall:.0f} s)"
        )
        print(f"{'url':<34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for name, _url in targets:
            times = sorted(t for s in samples for t in s.get(name, []))
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            print(f"{name:<34} {statistics.median(times):>8.0f} {p95:>8.0f} {times[-1]:>8.0f}")


if __name__ == "__main__":
    main()
