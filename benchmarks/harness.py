"""Shared set-up for benchmarks: Django against a fresh database, timing helpers."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cpu_model() -> str:
    """The processor, its cores and whether it has VNNI (int8 dot products): every speed figure depends on them."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return f"unknown CPU ({os.cpu_count()} cores)"
    name = next(
        (line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "unknown CPU"
    )
    return f"{name} ({os.cpu_count()} cores, {'with' if 'vnni' in info else 'without'} VNNI)"


@contextmanager
def fresh_django(database_url: str | None = None, *, flush: bool = True) -> Iterator[str]:
    """Configure Django on a new SQLite file in a temporary directory (or the given database, emptied).

    ``flush=False`` keeps what the given database holds (a benchmark's ``--reuse``: seed once, time often).
    """
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        for name in [k for k in os.environ if k.startswith("TOWNSQUARE_")]:
            del os.environ[name]
        os.environ.update(
            {
                "TOWNSQUARE_DATA_DIR": tmp,
                "TOWNSQUARE_LOG_LEVEL": "warning",
                "TOWNSQUARE_ALLOWED_HOSTS": "testserver",
                "DJANGO_SETTINGS_MODULE": "townsquare.settings",
                "HF_HUB_OFFLINE": "1",
                # the built ONNX model is kept between runs (its build is not what a benchmark measures)
                "TOWNSQUARE_MODEL_CACHE": str(ROOT / ".cache" / "models"),
            }
        )
        if database_url:
            os.environ["TOWNSQUARE_DATABASE_URL"] = database_url
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        # No collectstatic manifest in a throwaway directory: serve static URLs plainly.
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        if database_url and flush:
            call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)
        yield tmp


def _timed_samples(fn: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each of ``runs`` calls, after one warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def timed_runs(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and max milliseconds over ``runs`` calls, after one warm-up call."""
    samples = _timed_samples(fn, runs)
    return statistics.median(samples), max(samples)


def timed_percentiles(fn: Callable[[], object], runs: int) -> tuple[float, float, float]:
    """Median, 95th percentile and max milliseconds over ``runs`` calls, after one warm-up call."""
    samples = _timed_samples(fn, runs)
    p95 = statistics.quantiles(samples, n=20, method="inclusive")[18] if len(samples) > 1 else samples[0]
    return statistics.median(samples), p95, max(samples)
