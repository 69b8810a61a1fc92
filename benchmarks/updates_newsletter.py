#!/usr/bin/env python
"""Newsletter and link pages at a realistic size: 5,000 dropped links, 100 issues of 8 sections with their
history and review, 2,000 finished board tasks and 1,000 feedback themes.

    .venv/bin/python benchmarks/updates_newsletter.py [--runs 20] [--links 5000] [--issues 100]
    .venv/bin/python benchmarks/updates_newsletter.py --database-url postgres://postgres@127.0.0.1:5432/bench

Times GET through Django's test client (middleware, ORM, templates; no network) and prints the median
and max milliseconds and the queries per page. Target: <= 150 ms median. With --database-url the named
PostgreSQL database is emptied first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import cpu_model, fresh_django, timed_runs


def seed(link_count: int, issue_count: int) -> dict[str, object]:
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.utils import timezone

    from townsquare.board.models import Column, Task
    from townsquare.core.roles import Role
    from townsquare.feedback.models import Theme
    from townsquare.people.services import roles_ensure, team_ensure, user_ensure
    from townsquare.updates.links import normalise_url
    from townsquare.updates.models import DroppedLink, Newsletter, NewsletterSection, ReviewComment, SectionRevision

    rng = random.Random(18)
    now = timezone.now()
    start = time.perf_counter()
    with transaction.atomic():
        roles_ensure()
        marketing = team_ensure(name="Marketing", kind="marketing")
        devrel_team = team_ensure(name="DevRel", kind="devrel")
        sales = team_ensure(name="Sales", kind="sales")
        mia = user_ensure(
            username="mia", email="mia@example.com", full_name="Mia Chen", role=Role.STAKEHOLDER_MEMBER, team=marketing
        )
        ari = user_ensure(
            username="ari", email="ari@example.com", full_name="Ari L", role=Role.DEVREL_MEMBER, team=devrel_team
        )
        droppers = [
            user_ensure(
                username=f"staff{n}",
                email=f"s{n}@example.com",
                full_name=f"Staff {n}",
                role=Role.STAKEHOLDER_MEMBER,
                team=sales,
            )
            for n in range(50)
        ]
        links = []
        for n in range(link_count):
            url = f"https://blog{n % 97}.example.com/posts/{n}/a-long-enough-slug-for-a-real-post"
            links.append(
                DroppedLink(
                    url=url,
                    url_key=hashlib.sha256(normalise_url(url).encode()).hexdigest(),
                    title=f"Post number {n}: something the community should read",
                    note="Customers keep asking about this; worth a paragraph.",
                    dropped_by=rng.choice(droppers),
                )
            )
        DroppedLink.objects.bulk_create(links, batch_size=1000)
        # Spread the links over the last 400 days.
        rows = list(DroppedLink.objects.only("id"))
        for row in rows:
            row.created_at = now - dt.timedelta(minutes=rng.randrange(400 * 24 * 60))
        DroppedLink.objects.bulk_update(rows, ["created_at"], batch_size=1000)

        tasks = [
            Task(title=f"Finished task {n}", column=Column.DONE, done_at=now - dt.timedelta(hours=rng.randrange(9000)))
            for n in range(2000)
        ]
        Task.objects.bulk_create(tasks, batch_size=1000)
        Theme.objects.bulk_create(
            [
                Theme(
                    title=f"Theme {n}",
                    title_curated=n % 3 == 0,
                    status=Theme.Status.ROUTED if n % 2 else Theme.Status.OPEN,
                    people_count=rng.randrange(1, 60),
                    first_seen=now - dt.timedelta(days=rng.randrange(300)),
                    last_seen=now - dt.timedelta(days=rng.randrange(30)),
                )
                for n in range(1000)
            ],
            batch_size=1000,
        )
        today = timezone.localdate()
        link_ids = [row.pk for row in rows]
        for n in range(issue_count):
            end = today - dt.timedelta(days=30 * (issue_count - 1 - n) // 4)
            issue = Newsletter.objects.create(
                title=f"Issue {n}",
                period_start=end - dt.timedelta(days=7),
                period_end=end,
                owner=mia,
                status=Newsletter.Status.APPROVED if n < issue_count - 1 else Newsletter.Status.IN_REVIEW,
            )
            sections = NewsletterSection.objects.bulk_create(
                [
                    NewsletterSection(
                        newsletter=issue,
                        position=p + 1,
                        kind="link",
                        heading=f"Section {p} of issue {n}",
                        body="A paragraph the marketer wrote about the link. " * 6,
                        url=f"https://example.com/{n}/{p}",
                        link_id=rng.choice(link_ids),
                        source_key=f"link:{n}-{p}",
                    )
                    for p in range(8)
                ]
            )
            SectionRevision.objects.bulk_create(
                [
                    SectionRevision(
                        newsletter=issue,
                        section=s,
                        author=ari if k == 2 else mia,
                        by_devrel=k == 2,
                        action="edited",
                        heading=s.heading,
                        body=s.body,
                        chars_written=rng.randrange(20, 300),
                    )
                    for s in sections
                    for k in range(3)
                ]
            )
            ReviewComment.objects.bulk_create(
                [
                    ReviewComment(
                        newsletter=issue,
                        section=s,
                        author=ari,
                        kind="suggestion",
                        body="Try this instead.",
                        suggested_body="A better paragraph. " * 5,
                    )
                    for s in sections[:4]
                ]
            )
    print(f"seeded {link_count:,} links and {issue_count} issues in {time.perf_counter() - start:.1f} s")
    latest = Newsletter.objects.order_by("-period_end", "-id").first()
    return {"mia": mia, "ari": ari, "exec": User.objects.get(username="staff0"), "latest": latest}


def measure(people: dict[str, object], runs: int) -> None:
    from django.db import connection
    from django.test import Client

    latest = people["latest"]
    pages = [
        ("mia", "/updates/links/"),
        ("mia", "/updates/links/?page=60"),
        ("mia", "/updates/newsletter/"),
        ("mia", f"/updates/newsletter/{latest.pk}/"),  # type: ignore[attr-defined]
        ("ari", f"/updates/newsletter/{latest.pk}/"),  # type: ignore[attr-defined]
        ("ari", f"/updates/newsletter/{latest.pk}/export/"),  # type: ignore[attr-defined]
        ("exec", "/api/v1/updates/links/"),
    ]
    print(f"CPU: {cpu_model()}; the machine is shared (other jobs were running), so figures are noisy")
    print(f"database: {connection.vendor}")
    for who, url in pages:
        client = Client()
        client.force_login(people[who])  # type: ignore[arg-type]

        def get(url: str = url, client: Client = client) -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        queries: list[str] = []

        def count(execute, sql, params, many, context, queries: list[str] = queries):  # type: ignore[no-untyped-def]
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            get()
        median, worst = timed_runs(get, runs)
        print(f"{url:42} as {who:4}  median {median:6.1f} ms  max {worst:6.1f} ms  {len(queries)} queries")


def profile(people: dict[str, object]) -> None:
    import cProfile
    import pstats

    from django.test import Client

    client = Client()
    client.force_login(people["mia"])  # type: ignore[arg-type]
    url = f"/updates/newsletter/{people['latest'].pk}/"  # type: ignore[attr-defined]
    client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        client.get(url)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--links", type=int, default=5000)
    parser.add_argument("--issues", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--profile", action="store_true", help="print where the issue page's time goes")
    args = parser.parse_args()
    with fresh_django(args.database_url):
        people = seed(args.links, args.issues)
        if args.profile:
            profile(people)
        measure(people, args.runs)


if __name__ == "__main__":
    main()
