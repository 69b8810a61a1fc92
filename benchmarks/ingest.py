"""Ingestion benchmark: generate a Slack-export-shaped corpus, import it through the real service, twice.

    .venv/bin/python benchmarks/ingest.py                       # 1,000,000 messages into a fresh SQLite file
    .venv/bin/python benchmarks/ingest.py --messages 200000
    .venv/bin/python benchmarks/ingest.py --messages 200000 --database-url postgres://postgres@127.0.0.1:5432/bench

The corpus is written as a stream (one day file at a time into the zip) with ~50,000
people over 8 channels, realistic message lengths, mentions, links, edits and threads.
It prints messages/s for the first import, peak RSS (getrusage), and the time of a
no-change re-run (the same archive again) as a ratio. Targets: >= 5,000 messages/s,
< 1 GiB RSS, re-run >= 5x faster. Use an empty database: the figures include creating
members and identities.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = [
    "the",
    "a",
    "to",
    "it",
    "is",
    "and",
    "of",
    "for",
    "in",
    "on",
    "that",
    "this",
    "with",
    "you",
    "we",
    "can",
    "but",
    "not",
    "be",
    "have",
    "are",
    "import",
    "export",
    "sync",
    "error",
    "warning",
    "install",
    "upgrade",
    "docs",
    "release",
    "version",
    "python",
    "django",
    "postgres",
    "sqlite",
    "docker",
    "kubernetes",
    "api",
    "token",
    "thread",
    "channel",
    "question",
    "answer",
    "thanks",
    "please",
    "help",
    "issue",
    "bug",
    "feature",
    "request",
    "works",
    "broken",
    "slow",
    "fast",
    "config",
    "setting",
    "cache",
    "memory",
    "cpu",
    "latency",
    "deploy",
    "build",
    "test",
    "ci",
    "pipeline",
    "merge",
    "branch",
    "commit",
    "review",
    "community",
    "meetup",
    "talk",
    "slides",
    "video",
    "blog",
    "newsletter",
    "plugin",
    "extension",
    "theme",
    "dashboard",
    "chart",
    "report",
]
CHANNELS = ["general", "help", "dev", "announcements", "random", "feedback", "jobs", "events"]


def generate(path: Path, *, messages: int, people: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    per_day = 400
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        users = [
            {
                "id": f"U{n:07d}",
                "team_id": "TBENCH",
                "name": f"user{n}",
                "real_name": f"User {n}",
                "is_bot": n % 997 == 0,
                "profile": {"email": f"user{n}@example{n % 50}.org" if n % 3 else ""},
            }
            for n in range(people)
        ]
        archive.writestr("users.json", json.dumps(users))
        archive.writestr(
            "channels.json", json.dumps([{"id": f"C{n:04d}", "name": name} for n, name in enumerate(CHANNELS)])
        )
        del users
        written = 0
        day = 0
        start = 1_577_836_800  # 2020-01-01
        while written < messages:
            for channel in CHANNELS:
                count = min(per_day, messages - written)
                if count <= 0:
                    break
                ts = start + day * 86_400
                batch = []
                thread_root = None
                for index in range(count):
                    ts_str = f"{ts + index * 200 + rng.randint(0, 150)}.{index:06d}"
                    words = rng.randint(4, 60)
                    text = " ".join(rng.choice(WORDS) for _ in range(words))
                    if rng.random() < 0.1:
                        text = f"<@U{rng.randrange(people):07d}> {text}"
                    if rng.random() < 0.05:
                        text += f" <https://example.com/docs/{rng.randrange(1000)}|docs>"
                    # a core of regulars writes most messages; a long tail writes a few each
                    author = int(rng.paretovariate(1.1) * 20) % people if rng.random() < 0.6 else rng.randrange(people)
                    message = {"type": "message", "user": f"U{author:07d}", "text": text, "ts": ts_str}
                    if rng.random() < 0.03:
                        message["edited"] = {"user": message["user"], "ts": f"{ts + index * 200 + 180}.000000"}
                    if thread_root and rng.random() < 0.2:
                        message["thread_ts"] = thread_root
                    elif rng.random() < 0.05:
                        thread_root = ts_str
                    batch.append(message)
                archive.writestr(f"{channel}/day-{day:05d}.json", json.dumps(batch))
                written += count
            day += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--keep", action="store_true", help="keep the generated archive and SQLite file")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="townsquare-bench-"))
    os.environ["TOWNSQUARE_DATA_DIR"] = str(work)
    os.environ.setdefault("TOWNSQUARE_EMAIL_URL", "")
    if args.database_url:
        os.environ["TOWNSQUARE_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("TOWNSQUARE_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    sys.path.insert(0, str(ROOT))
    import logging

    import django

    django.setup()
    logging.getLogger("townsquare").setLevel(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection

    from townsquare.people.models import Identity
    from townsquare.sources import services
    from townsquare.sources.models import Message

    call_command("migrate", verbosity=0)
    archive = work / "slack-export.zip"
    started = time.perf_counter()
    generate(archive, messages=args.messages, people=args.people)
    print(
        f"generated {args.messages:,} messages from up to {args.people:,} people in {time.perf_counter() - started:.1f}s "
        f"({archive.stat().st_size / 1e6:.0f} MB zip)"
    )

    source, _ = services.source_get_or_create(kind="slack_export", name=f"bench {args.messages} {int(time.time())}")
    t0 = time.perf_counter()
    first = services.archive_import(source=source, path=archive)
    first_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    second = services.archive_import(source=source, path=archive)
    second_s = time.perf_counter() - t1
    # The same re-run without the per-file fingerprints: every record parsed, hashed and compared.
    from townsquare.sources.models import Source

    Source.objects.filter(pk=source.pk).update(cursor={})
    source.refresh_from_db()
    t2 = time.perf_counter()
    third = services.archive_import(source=source, path=archive)
    third_s = time.perf_counter() - t2
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    stored = Message.objects.filter(source=source).count()
    identities = Identity.objects.filter(realm="slack:TBENCH").count()
    rate = first.new / first_s if first_s else 0.0
    print(f"database:        {connection.vendor}")
    print(
        f"first import:    {first.status}, {first.new:,} new, {first.rejected:,} rejected in {first_s:.1f}s "
        f"= {rate:,.0f} messages/s (target >= 5,000)"
    )
    print(f"stored:          {stored:,} messages, {identities:,} identities")
    print(
        f"no-change rerun: {second.status}, {second.unchanged:,} unchanged, {second.new + second.updated} written "
        f"in {second_s:.1f}s = {first_s / second_s:.1f}x faster (target >= 5x)"
    )
    print(
        f"record-by-record rerun (fingerprints cleared): {third.unchanged:,} unchanged, "
        f"{third.new + third.updated} written in {third_s:.1f}s = {first_s / third_s:.1f}x faster"
    )
    print(f"peak RSS:        {rss_mib:,.0f} MiB (target < 1024)")
    if not args.keep:
        archive.unlink()
    ok = rate >= 5000 and rss_mib < 1024 and first_s / second_s >= 5 and stored == args.messages
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
