"""The support part of an update at scale: community questions answered in the week, worth reusing.

    .venv/bin/python benchmarks/updates_support.py [--messages 1000000] [--themes 5000] [--database-url URL]

Seeds the weekly report benchmark's store (MESSAGES chat messages over 52 weeks, regrouped into threads of
five within one source, 1 in 97 people staff, a third of the messages in THEMES themes), then makes about half the threads questions (its
first message titled with a "?") and one reply in ten a thanks (rarely from the asker: authors are random), and times
``feedback.answered.answered_questions`` for the seeded store's last complete week (the theme fallback for "asked
again": no vectors are seeded). It runs once per support audience in a draft build, whose target is 10 s
for every audience together.
"""

from __future__ import annotations

import argparse
import time

from harness import cpu_model, fresh_django, timed_runs
from report_build import seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--themes", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with fresh_django(args.database_url):
        from django.db import connection
        from django.db.models import F
        from django.db.models.functions import Mod

        from townsquare.core.weeks import week_bounds
        from townsquare.feedback.answered import answered_questions
        from townsquare.sources.models import Message

        print(f"CPU: {cpu_model()}", flush=True)
        week = seed(args.messages, args.themes)
        start = time.perf_counter()
        # The seed deals a thread's five messages over eight sources; a thread lives in one: regroup each
        # source's messages into threads of five (n, n + 8, ... n + 32, all on channel n % 8).
        with connection.cursor() as cursor:
            n = "CAST(external_id AS INTEGER)"
            cursor.execute(
                f"UPDATE {Message._meta.db_table} SET thread_external_id = CAST({n} - 8 * (({n} / 8) % 5) AS TEXT)"
            )
        every = Message.objects.annotate(slot=Mod("id", 10))
        every.filter(thread_external_id=F("external_id"), slot__in=[1, 2, 3, 4, 5]).update(
            title="How do I make the feature work?", kind=Message.Kind.QUESTION
        )
        every.exclude(thread_external_id=F("external_id")).filter(slot=2).update(body="Thanks, that worked!")
        print(f"marked questions and thanks in {time.perf_counter() - start:.0f} s", flush=True)
        low, high = week_bounds(week)
        found = answered_questions(low=low, high=high)
        median, worst = timed_runs(lambda: answered_questions(low=low, high=high), args.runs)
        print(
            f"[{connection.vendor}] answered questions of the week at {args.messages:,} messages: "
            f"{len(found)} shown, median {median:.0f} ms, max {worst:.0f} ms",
            flush=True,
        )


if __name__ == "__main__":
    main()
