"""Feedback at scale: incremental assignment of a week's new messages, re-grouping a window.

    .venv/bin/python benchmarks/feedback_scale.py [--new 20000] [--themes 1000] [--window 200000]

Targets (issue 5): assigning 20,000 new messages < 60 s; re-grouping a 200,000-message window < 10 min.
Embedding is measured by feedback_quality.py; here vectors are synthetic (unit vectors around
``--themes`` random topic centres), so the figures are the assignment and grouping costs alone.

1. ``messages_assign`` (the product's service) on a fresh SQLite database in a temporary data
   directory: ``--new`` messages with embeddings in the file vector index and feedback labels, against
   ``--themes`` existing themes; includes writing assignments and refreshing every touched theme
   (counts, score, key phrases).
2. ``themes_recluster`` (the product's service) over the same messages as the window.
3. ``cluster_vectors`` (the grouping core of re-grouping) on ``--window`` vectors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def synthetic(n: int, centres: np.ndarray, rng: np.random.Generator, noise: float = 0.6) -> np.ndarray:
    picks = rng.integers(0, len(centres), n)
    vectors = centres[picks] + noise * rng.normal(size=(n, centres.shape[1])).astype(np.float32) / np.sqrt(
        centres.shape[1]
    )
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--new", type=int, default=20_000)
    ap.add_argument("--themes", type=int, default=1_000)
    ap.add_argument("--window", type=int, default=200_000)
    ap.add_argument("--skip-service", action="store_true")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(a.themes, 384)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    if not a.skip_service:
        data_dir = tempfile.mkdtemp(prefix="fb-scale-")
        os.environ["TOWNSQUARE_DATA_DIR"] = data_dir
        os.environ.pop("TOWNSQUARE_DATABASE_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
        import django

        django.setup()
        from django.core.management import call_command
        from django.utils import timezone

        call_command("migrate", verbosity=0)
        from townsquare.feedback import services
        from townsquare.feedback.models import Classification, Embedding, Theme
        from townsquare.feedback.vectors import get_index
        from townsquare.people.models import Identity, Member
        from townsquare.sources.models import Channel, Message, Source

        start = time.perf_counter()
        source = Source.objects.create(name="bench", kind=Source.Kind.GITHUB)
        channels = [Channel.objects.create(source=source, external_id=f"c{i}", name=f"c{i}") for i in range(5)]
        members = Member.objects.bulk_create([Member(display_name=f"p{i}") for i in range(5000)])
        identities = Identity.objects.bulk_create(
            [Identity(realm="github", external_id=f"u{i}", member=m) for i, m in enumerate(members)]
        )
        Theme.objects.bulk_create(
            [Theme(title=f"theme {i}", centroid=c.tobytes(), message_count=5) for i, c in enumerate(centres)]
        )
        now = timezone.now()
        messages = Message.objects.bulk_create(
            [
                Message(
                    source=source,
                    channel=channels[i % 5],
                    external_id=f"m{i}",
                    kind="issue",
                    author=identities[i % len(identities)],
                    created_at=now - dt.timedelta(minutes=i % 10_000),
                    body=f"synthetic message {i} about topic words w{i % 97} w{i % 89}",
                    content_hash=str(i),
                )
                for i in range(a.new)
            ],
            batch_size=2000,
        )
        vectors = synthetic(a.new, centres, rng)
        embeddings = Embedding.objects.bulk_create(
            [
                Embedding(message=m, message_version=1, model="all-MiniLM-L6-v2", vector=v.astype(np.float16).tobytes())
                for m, v in zip(messages, vectors)
            ],
            batch_size=2000,
        )
        get_index().add([e.pk for e in embeddings], vectors)
        get_index().flush()
        Classification.objects.bulk_create(
            [Classification(message=m, message_version=1, kind="bug", confidence=0.9) for m in messages],
            batch_size=2000,
        )
        print(f"setup: {a.new:,} messages, {a.themes:,} themes in {time.perf_counter() - start:.1f} s", flush=True)

        ids = [m.pk for m in messages]
        start = time.perf_counter()
        result = services.messages_assign(message_ids=ids)
        took = time.perf_counter() - start
        print(
            f"incremental assignment (service, SQLite): {result.done:,} messages in {took:.1f} s "
            f"({result.done / took:,.0f}/s), {result.new_themes:,} new themes, "
            f"{len(result.touched_themes):,} themes refreshed; target < 60 s for 20,000",
            flush=True,
        )

        start = time.perf_counter()
        regroup = services.themes_recluster(days=30)
        print(
            f"re-grouping (service, SQLite): {regroup.done:,}-message window in {time.perf_counter() - start:.1f} s, "
            f"{regroup.proposals:,} proposals",
            flush=True,
        )
        print(f"peak memory so far: {peak_rss_mib():,.0f} MiB", flush=True)

    from townsquare.feedback.pipeline.cluster import cluster_vectors

    window = synthetic(a.window, centres, rng)
    start = time.perf_counter()
    labels = cluster_vectors(window)
    took = time.perf_counter() - start
    print(
        f"grouping core: {a.window:,} vectors in {took:.1f} s, {len(set(labels.tolist())):,} groups "
        f"({a.themes:,} synthetic topics); target < 600 s for 200,000; peak memory {peak_rss_mib():,.0f} MiB",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
