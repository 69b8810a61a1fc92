"""Audience updates at scale: build every audience's draft for a period, and render an update page.

    .venv/bin/python benchmarks/updates_digests.py [--messages 1000000] [--themes 5000] [--tasks 5000]
                                                   [--database-url URL] [--reuse]

Seeds the weekly report benchmark's store (MESSAGES messages over 52 weeks, THEMES themes routed to six
departments), gives the themes their feedback aggregates (last seen, people, paying customers, trend), puts
TASKS tasks on the board (a third finished over the year, some upcoming events), then times building the
draft of every audience (one per department, every recipe part on) for the week that ended today, and GET of
the largest sent update's page with a conversation of 40 questions. Targets: drafts <= 10 s, page <= 150 ms
median.

With ``--reuse`` and ``--database-url`` the database is not emptied: the message store and the board are
seeded only when missing (seed 1,000,000 messages once, time many times); the audiences' updates are
deleted and built afresh on every run. The CPU time of this process is printed beside the wall-clock build
time, being less sensitive to a loaded machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time

from harness import cpu_model, fresh_django, timed_percentiles
from report_build import DEPARTMENTS, seed

LABELS = ["demo", "release", "docs", "tutorial", "talks", "events", "community", "sdk", "metrics", "blog"]


def seed_updates(tasks: int) -> None:
    from django.db import transaction
    from django.utils import timezone

    from townsquare.board.models import Label, Task
    from townsquare.feedback.models import Theme

    rng = random.Random(11)
    now = timezone.now()
    start = time.perf_counter()
    with transaction.atomic():
        themes = list(Theme.objects.all().only("pk"))
        for theme in themes:
            theme.last_seen = now - dt.timedelta(days=rng.randint(0, 90))
            theme.people_count = rng.randint(1, 60)
            theme.customer_count = rng.randint(0, 6) if rng.random() < 0.4 else 0
            theme.score_parts = {"trend": round(rng.uniform(-1, 1), 3), "customers_by_tier": {"enterprise": 1}}
            if rng.random() < 0.02:
                theme.addressed_at = now - dt.timedelta(days=rng.randint(0, 60))
                theme.addressed_release = f"v3.{rng.randint(0, 9)}"
        Theme.objects.bulk_update(
            themes,
            ["last_seen", "people_count", "customer_count", "score_parts", "addressed_at", "addressed_release"],
            batch_size=2000,
        )
        labels = [Label.objects.create(name=name, slug=name) for name in LABELS]
        rows = []
        for n in range(tasks):
            done = n % 3 == 0
            rows.append(
                Task(
                    title=f"Task {n}: {LABELS[n % len(LABELS)]} for feature {n % 400}",
                    description="Written, reviewed and shipped.",
                    column="done" if done else ["backlog", "doing", "review"][n % 3],
                    position=n * 1024,
                    done_at=now - dt.timedelta(hours=rng.randint(1, 365 * 24)) if done else None,
                    due_date=(now + dt.timedelta(days=rng.randint(-30, 90))).date() if not done else None,
                    visibility="internal" if n % 11 == 0 else "public",
                )
            )
        created = Task.objects.bulk_create(rows, batch_size=2000)
        through = Task.labels.through
        through.objects.bulk_create(
            [through(task_id=t.pk, label_id=labels[i % len(labels)].pk) for i, t in enumerate(created)],
            batch_size=5000,
        )
    print(f"seeded theme aggregates and {tasks:,} tasks in {time.perf_counter() - start:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--themes", type=int, default=5_000)
    parser.add_argument("--tasks", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url")
    parser.add_argument("--reuse", action="store_true", help="keep the database's rows; seed only what is missing")
    args = parser.parse_args()
    with fresh_django(args.database_url, flush=not (args.reuse and args.database_url)):
        from django.db import connection
        from django.test import Client
        from django.urls import reverse
        from django.utils import timezone

        from townsquare.board.models import Label
        from townsquare.core.roles import Role
        from townsquare.core.weeks import company_tz
        from townsquare.people.models import Team
        from townsquare.people.services import user_ensure
        from townsquare.sources.models import Message
        from townsquare.updates.models import Audience, Part, Update
        from townsquare.updates.services import digests as services

        print(f"CPU: {cpu_model()}; load average {os.getloadavg()[0]:.1f}", flush=True)
        if not Message.objects.exists():
            seed(args.messages, args.themes)
        if not Label.objects.exists():
            seed_updates(args.tasks)
        Update.objects.all().delete()
        print(f"store: {Message.objects.count():,} messages", flush=True)
        reader = user_ensure(
            username="reader", email="r@example.com", full_name="Re Ader", role=Role.STAKEHOLDER_MEMBER, password="x"
        )
        for name in DEPARTMENTS:
            team = Team.objects.get(name=name)
            user_ensure(
                username=f"{team.slug}-lead",
                email=f"{team.slug}@example.com",
                full_name=f"{name} Lead",
                role=Role.STAKEHOLDER_LEAD,
                team=team,
                password="x",
            )
            if not Audience.objects.filter(name=name).exists():
                services.audience_save(
                    name=name, team=team, destination=None, cadence="weekly", weekday=0, hour=9, parts=Part.values
                )
        today = timezone.now().astimezone(company_tz()).date()
        # A worker has the URLconf loaded already; importing it (seconds on a busy machine) is not the build.
        reverse("updates:index")
        audiences = list(Audience.objects.select_related("team"))
        start, cpu = time.perf_counter(), time.process_time()
        drafts = [services.update_build_draft(audience=a, period_end=today) for a in audiences]
        build, cpu = time.perf_counter() - start, time.process_time() - cpu
        items = sum(d.items.count() for d in drafts)
        print(
            f"[{connection.vendor}] built {len(drafts)} drafts ({items} items) in {build:.2f} s "
            f"(this process's CPU {cpu:.2f} s; target <= 10 s)",
            flush=True,
        )
        rebuilds = []
        for _ in range(3):
            start = time.perf_counter()
            for a in audiences:
                services.update_build_draft(audience=a, period_end=today, rebuild=True)
            rebuilds.append(time.perf_counter() - start)
        print(
            f"[{connection.vendor}] rebuilt them in {min(rebuilds):.2f} s best, {max(rebuilds):.2f} s worst of 3",
            flush=True,
        )

        biggest = max(Update.objects.all(), key=lambda u: u.items.count())
        services.update_send(update=biggest, by=None)
        asker = user_ensure(
            username="asker", email="a@example.com", full_name="As Ker", role=Role.STAKEHOLDER_MEMBER, password="x"
        )
        items_of = list(biggest.items.all())
        for n in range(40):
            question = services.question_ask(
                update=biggest, by=asker, text=f"Question {n}?", item=items_of[n % len(items_of)] if n % 2 else None
            )
            if n % 3:
                services.question_answer(question=question, by=asker, answer=f"Answer {n}.")
        client = Client()
        client.force_login(reader)
        url = biggest.get_absolute_url()
        assert client.get(url).status_code == 200
        median, p95, worst = timed_percentiles(lambda: client.get(url), args.runs)
        print(
            f"[{connection.vendor}] update page ({len(items_of)} items, 40 questions): "
            f"median {median:.0f} ms, p95 {p95:.0f} ms, max {worst:.0f} ms; load average {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
