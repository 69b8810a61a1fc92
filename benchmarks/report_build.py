"""Weekly report at scale: build every department's draft, and render the report page.

    .venv/bin/python benchmarks/report_build.py [--messages 1000000] [--themes 5000] [--database-url URL]

Creates a store of MESSAGES messages over 52 weeks from 50,000 people, a third of them
assigned to THEMES feedback themes routed to six departments, then times
``reports_build_week`` for the last week (company-wide plus each department) and
GET of the largest report's page through the Django test client. Target: drafts
under 10 s, page under 150 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import time

from harness import fresh_django, timed_runs

DEPARTMENTS = ["Engineering", "Product", "Support", "Sales", "Marketing", "Customer Success"]
TIERS = ["enterprise", "business", "team", "startup", "free"]


def seed(messages: int, themes: int, people: int = 50_000) -> dt.date:
    from django.db import transaction

    from townsquare.core.weeks import last_complete_week, week_bounds
    from townsquare.feedback.models import Theme, ThemeMessage
    from townsquare.people.models import Account, Identity, Member, Organization, Team
    from townsquare.sources.models import Channel, Message, Source

    rng = random.Random(7)
    week = last_complete_week()
    end = week_bounds(week)[1]
    start = time.perf_counter()
    with transaction.atomic():
        teams = [Team.objects.create(name=n, slug=n.lower().replace(" ", "-"), kind="other") for n in DEPARTMENTS]
        orgs = Organization.objects.bulk_create([Organization(name=f"Company {i}") for i in range(2000)])
        Account.objects.bulk_create(
            [
                Account(
                    crm_id=f"crm-{i}",
                    name=o.name,
                    organization=o,
                    tier=TIERS[i % 5],
                    annual_revenue=rng.randint(0, 900) * 1000,
                )
                for i, o in enumerate(orgs[:800])
            ]
        )
        members = Member.objects.bulk_create(
            [
                Member(
                    display_name=f"Person {i}",
                    organization=orgs[i % 2000] if i % 3 == 0 else None,
                    is_staff=i % 97 == 0,
                )
                for i in range(people)
            ],
            batch_size=5000,
        )
        identities = Identity.objects.bulk_create(
            [
                Identity(realm="bench", external_id=str(i), handle=f"person{i}", display_name=f"Person {i}", member=m)
                for i, m in enumerate(members)
            ],
            batch_size=5000,
        )
        sources = [Source.objects.create(name=f"Source {i}", kind="slack_export") for i in range(8)]
        channels = [
            Channel.objects.create(source=s, external_id="c", name=f"#channel-{i}") for i, s in enumerate(sources)
        ]
        theme_rows = Theme.objects.bulk_create(
            [
                Theme(
                    title=f"Theme {i}: something about feature {i % 400}",
                    department=teams[i % len(teams)] if i % 5 else None,
                    score=rng.random() * 50,
                    first_seen=end - dt.timedelta(days=rng.randint(1, 360)),
                    status="open",
                )
                for i in range(themes)
            ],
            batch_size=5000,
        )
    print(f"seeded people and {themes:,} themes in {time.perf_counter() - start:.0f} s", flush=True)
    start = time.perf_counter()
    batch = 10_000
    for offset in range(0, messages, batch):
        with transaction.atomic():
            rows = []
            for n in range(offset, min(offset + batch, messages)):
                channel = channels[n % 8]
                body = f"Message {n} about feature {n % 400}: it does not work as documented"
                rows.append(
                    Message(
                        source_id=channel.source_id,
                        channel=channel,
                        external_id=str(n),
                        kind="chat",
                        author=identities[rng.randrange(people)],
                        created_at=end - dt.timedelta(seconds=rng.randint(1, 364 * 86400)),
                        body=body,
                        url=f"https://chat.example.com/{n}",
                        thread_external_id=str(n - n % 5),
                        content_hash=hashlib.sha1(body.encode()).hexdigest(),
                    )
                )
            created = Message.objects.bulk_create(rows, batch_size=5000)
            ThemeMessage.objects.bulk_create(
                [
                    ThemeMessage(theme=theme_rows[rng.randrange(themes)], message=m, similarity=rng.random())
                    for m in created
                    if m.pk % 3 == 0
                ],
                batch_size=5000,
            )
        if (offset // batch) % 20 == 0:
            print(
                f"  {offset + batch:,} messages ({(offset + batch) / (time.perf_counter() - start):,.0f}/s)", flush=True
            )
    print(f"seeded {messages:,} messages in {time.perf_counter() - start:.0f} s", flush=True)
    return week


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--themes", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with fresh_django(args.database_url):
        from django.db import connection
        from django.test import Client

        from townsquare.core.roles import Role
        from townsquare.people.services import user_ensure
        from townsquare.reports import services
        from townsquare.reports.models import Report

        week = seed(args.messages, args.themes)
        start = time.perf_counter()
        drafts = services.reports_build_week(week_start=week)
        build = time.perf_counter() - start
        items = sum(r.items.count() for r in drafts)
        print(f"[{connection.vendor}] built {len(drafts)} drafts ({items:,} themes) for the week in {build:.2f} s")
        start = time.perf_counter()
        services.reports_build_week(week_start=week, rebuild=True)
        print(f"[{connection.vendor}] rebuilt them in {time.perf_counter() - start:.2f} s")
        biggest = max(Report.objects.all(), key=lambda r: r.items.count())
        services.report_publish(report=biggest, by=None)
        reader = user_ensure(
            username="reader", email="r@example.com", full_name="Re Ader", role=Role.STAKEHOLDER_MEMBER, password="x"
        )
        client = Client()
        client.force_login(reader)
        url = biggest.get_absolute_url()
        assert client.get(url).status_code == 200
        median, worst = timed_runs(lambda: client.get(url), args.runs)
        print(
            f"[{connection.vendor}] report page ({biggest.items.count()} themes): median {median:.0f} ms, max {worst:.0f} ms"
        )


if __name__ == "__main__":
    main()
