"""Quarterly value report at scale: build last quarter's draft, render its page, its PDF and its deck.

    .venv/bin/python benchmarks/value_report.py [--messages 1000000] [--themes 5000] [--requests 2000]
        [--tasks 5000] [--database-url URL]

Seeds the weekly report benchmark's corpus (``report_build.seed``: MESSAGES messages over 52 weeks from
50,000 people, a third of them in THEMES themes), marks a tenth of the themes addressed, files REQUESTS
requests of every type across six teams' budgets over the last four quarters (points in the ledger) and
TASKS board tasks finished over the year with a credited collaborator and a thank-you each, then runs the
nightly health recompute the report reads. Times ``value_report_build_draft`` for last quarter (with the
quarter before, as the report compares them), GET of the report page through the Django test client, and
the PDF and deck exports. Targets (issue 19): draft <= 20 s, page <= 200 ms, PDF <= 10 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from harness import cpu_model, fresh_django, timed_runs
from report_build import seed


def seed_value(*, requests: int, tasks: int, seed_value: int = 11) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from townsquare.board.models import Column, Kudos, Task
    from townsquare.core.quarters import current_quarter, quarter_bounds
    from townsquare.feedback.models import Theme
    from townsquare.intake.models import Budget, LedgerEntry, Request, RequestType
    from townsquare.people.models import Team

    rng = random.Random(seed_value)
    User = get_user_model()
    quarters = [current_quarter()]
    for _ in range(4):
        quarters.insert(0, quarters[0].previous())
    start = time.perf_counter()
    with transaction.atomic():
        last_start = quarter_bounds(quarters[-2])[0]
        themes = list(Theme.objects.values_list("pk", flat=True))
        for pk in themes[::10]:
            Theme.objects.filter(pk=pk).update(
                status=Theme.Status.ADDRESSED,
                addressed_release="v9",
                addressed_at=last_start + dt.timedelta(seconds=rng.randint(0, 89 * 86400)),
            )
        teams = list(Team.objects.exclude(kind="devrel"))
        user = User.objects.create_user(username="bench-lead", email="lead@example.com")
        types = list(RequestType.objects.all())
        budgets = {
            (t.pk, q.key): Budget.objects.create(team=t, quarter=q.key, points=400) for t in teams for q in quarters
        }
        for n in range(requests):
            quarter, team, kind = rng.choice(quarters[:-1]), rng.choice(teams), rng.choice(types)
            q_start = quarter_bounds(quarter)[0]
            request = Request.objects.create(
                team=team, budget=budgets[(team.pk, quarter.key)], requester=user, type=kind, title=f"Request {n}",
                status=rng.choice([Request.Status.DONE, Request.Status.DONE, Request.Status.ACCEPTED,
                                   Request.Status.DECLINED]),
                points=kind.points,
            )  # fmt: skip
            Request.objects.filter(pk=request.pk).update(created_at=q_start + dt.timedelta(days=rng.randint(0, 88)))
            LedgerEntry.objects.create(
                budget=request.budget, request=request, kind=LedgerEntry.Kind.SPEND, spent=kind.points
            )
        helpers = [User.objects.create_user(username=f"helper{n}", first_name=f"Helper {n}") for n in range(200)]
        year_start = quarter_bounds(quarters[0])[0]
        for n in range(tasks):
            done_at = year_start + dt.timedelta(seconds=rng.randint(0, 360 * 86400))
            task = Task.objects.create(title=f"Task {n}", owner=user, column=Column.DONE, done_at=done_at)
            helper = rng.choice(helpers)
            team = rng.choice(teams)
            for kind in (Kudos.Kind.CREDIT, Kudos.Kind.THANKS):
                kudos = Kudos.objects.create(kind=kind, task=task, user=helper, team=team, message="thanks")
                Kudos.objects.filter(pk=kudos.pk).update(created_at=done_at)
    print(f"seeded {requests:,} requests and {tasks:,} tasks in {time.perf_counter() - start:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--themes", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}")
    with fresh_django(args.database_url):
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client

        from townsquare.core.quarters import current_quarter
        from townsquare.core.roles import Role
        from townsquare.metrics.services.health import health_recompute
        from townsquare.people.services import user_ensure
        from townsquare.value.services import value_report_build_draft
        from townsquare.value.views import report_deck_bytes, report_pdf_bytes

        seed(args.messages, args.themes)
        seed_value(requests=args.requests, tasks=args.tasks)
        start = time.perf_counter()
        health_recompute()
        print(f"health recompute (nightly, not part of the draft): {time.perf_counter() - start:.1f} s", flush=True)
        quarter = current_quarter().previous()
        print(f"database: {connection.vendor}; quarter {quarter.label}", flush=True)
        builds = []
        for _ in range(3):
            start = time.perf_counter()
            report = value_report_build_draft(quarter=quarter)
            builds.append(time.perf_counter() - start)
        print(f"draft build (quarter and the one before): {min(builds):.2f} s best, {max(builds):.2f} s worst "
              "(target <= 20 s)", flush=True)  # fmt: skip
        lead = user_ensure(username="bench-dana", email="dana@example.com", full_name="Dana", role=Role.DEVREL_LEAD)
        client = Client()
        client.force_login(get_user_model().objects.get(pk=lead.pk))
        url = report.get_absolute_url()
        assert client.get(url).status_code == 200
        median, worst = timed_runs(lambda: client.get(url), args.runs)
        print(f"report page: {median:.0f} ms median, {worst:.0f} ms max over {args.runs} (target <= 200 ms)")
        pdf_times, deck_times = [], []
        for _ in range(3):
            start = time.perf_counter()
            pdf = report_pdf_bytes(report)
            pdf_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            deck = report_deck_bytes(report)
            deck_times.append(time.perf_counter() - start)
        print(f"PDF: {min(pdf_times):.2f} s best, {max(pdf_times):.2f} s worst, {len(pdf):,} bytes (target <= 10 s)")
        print(f"deck: {min(deck_times):.2f} s best, {max(deck_times):.2f} s worst, {len(deck):,} bytes")


if __name__ == "__main__":
    main()
