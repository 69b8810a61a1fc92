"""Quarterly value report at scale: build last quarter's draft, render its page, its PDF and its deck.

    .venv/bin/python benchmarks/value_report.py [--messages 1000000] [--themes 5000] [--requests 2000]
        [--tasks 5000] [--database-url URL] [--reuse]

Seeds the weekly report benchmark's corpus (``report_build.seed``: MESSAGES messages over 52 weeks from
50,000 people, a third of them in THEMES themes), marks a tenth of the themes addressed, files REQUESTS
requests of every type across six teams' budgets over the last four quarters (points in the ledger) and
TASKS board tasks finished over the year with a credited collaborator and a thank-you each, then runs the
nightly health recompute the report reads. Times ``value_report_build_draft`` for last quarter (with the
quarter before, as the report compares them), GET of the report page through the Django test client, and
the PDF and deck exports. Targets (issue 19): draft <= 20 s, page <= 200 ms, PDF <= 10 s.

With ``--reuse`` and ``--database-url`` the database is not emptied: whatever it already holds (the message
store, the value rows, the health snapshot) is kept and only what is missing is seeded, so a 1,000,000-message
store is seeded once and timed many times. Times are wall clock on a shared machine; the CPU time of this
process (the Python side of each build) is printed beside them, being less sensitive to the machine's load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import time
from collections.abc import Callable

from harness import cpu_model, fresh_django, timed_percentiles
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


def profile_build(build: Callable[[], object]) -> None:
    """cProfile's top functions of one build, and its slowest SQL statements."""
    import cProfile
    import pstats

    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    profiler = cProfile.Profile()
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        profiler.runcall(build)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    slowest = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:15]
    print(f"{len(queries.captured_queries)} queries; slowest:")
    for query in slowest:
        print(f"  {float(query['time']):.3f} s  {query['sql'][:400]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--themes", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reuse", action="store_true", help="keep the database's rows; seed only what is missing")
    parser.add_argument("--profile", action="store_true", help="print where one draft build spends its time")
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}; load average {os.getloadavg()[0]:.1f}", flush=True)
    with fresh_django(args.database_url, flush=not (args.reuse and args.database_url)):
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client

        from townsquare.core.quarters import current_quarter
        from townsquare.core.roles import Role
        from townsquare.intake.models import Request
        from townsquare.metrics.models import HealthSnapshot
        from townsquare.metrics.services.health import health_recompute
        from townsquare.people.services import user_ensure
        from townsquare.sources.models import Message
        from townsquare.value.services import value_report_build_draft
        from townsquare.value.views import report_deck_bytes, report_pdf_bytes

        if not Message.objects.exists():
            seed(args.messages, args.themes)
        if not Request.objects.exists():
            seed_value(requests=args.requests, tasks=args.tasks)
        print(f"store: {Message.objects.count():,} messages, {Request.objects.count():,} requests", flush=True)
        if not HealthSnapshot.objects.exists():
            start = time.perf_counter()
            health_recompute()
            print(f"health recompute (nightly, not part of the draft): {time.perf_counter() - start:.1f} s")
        quarter = current_quarter().previous()
        print(f"database: {connection.vendor}; quarter {quarter.label}", flush=True)
        if args.profile:
            profile_build(lambda: value_report_build_draft(quarter=quarter))
        builds, cpu = [], []
        for _ in range(3):
            start, cpu_start = time.perf_counter(), time.process_time()
            report = value_report_build_draft(quarter=quarter)
            builds.append(time.perf_counter() - start)
            cpu.append(time.process_time() - cpu_start)
        print(f"draft build (quarter and the one before): {min(builds):.2f} s best, {max(builds):.2f} s worst "
              f"(target <= 20 s); this process's CPU {min(cpu):.2f} s best", flush=True)  # fmt: skip
        lead = user_ensure(username="bench-dana", email="dana@example.com", full_name="Dana", role=Role.DEVREL_LEAD)
        client = Client()
        client.force_login(get_user_model().objects.get(pk=lead.pk))
        url = report.get_absolute_url()
        assert client.get(url).status_code == 200
        median, p95, worst = timed_percentiles(lambda: client.get(url), args.runs)
        print(f"report page: {median:.0f} ms median, {p95:.0f} ms p95, {worst:.0f} ms max over {args.runs} "
              f"(target <= 200 ms); load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
        pdf_times, deck_times, pdf_cpu = [], [], []
        for _ in range(3):
            start, cpu_start = time.perf_counter(), time.process_time()
            pdf = report_pdf_bytes(report)
            pdf_times.append(time.perf_counter() - start)
            pdf_cpu.append(time.process_time() - cpu_start)
            start = time.perf_counter()
            deck = report_deck_bytes(report)
            deck_times.append(time.perf_counter() - start)
        print(f"PDF: {min(pdf_times):.2f} s best, {max(pdf_times):.2f} s worst, {len(pdf):,} bytes (target <= 10 s); "
              f"CPU {min(pdf_cpu):.2f} s best")  # fmt: skip
        print(f"deck: {min(deck_times):.2f} s best, {max(deck_times):.2f} s worst, {len(deck):,} bytes")


if __name__ == "__main__":
    main()
