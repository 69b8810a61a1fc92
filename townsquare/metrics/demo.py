"""Demo downloads for Acme Cloud: recorded registry answers in ``demo_data/downloads/``, replayed. Idempotent.

Each file holds answers as a registry gave them (pypistats.org twice, six months apart, since it keeps only
180 days; npm once; Docker Hub and GitHub once a day for a year), shifted by whole days so the last one
lands yesterday. They go through the same parsers and the same storing service as a real fetch, so the
demo shows exactly what a year of daily fetches would. The packages are marked ``is_demo``: the page says
so, and scheduled fetches never send their names to a real registry.
"""

from __future__ import annotations

import datetime as dt
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from townsquare.metrics.downloads import docker, github, npm, pypi
from townsquare.metrics.downloads.base import CumulativeTotal, DailyCounts
from townsquare.metrics.models import DownloadFetchRun, TrackedPackage
from townsquare.metrics.services import downloads as services
from townsquare.metrics.services import health as health_services

DATA = Path(__file__).resolve().parent / "demo_data" / "downloads"

PACKAGES = [
    (TrackedPackage.Registry.PYPI, "acme-cloud", "Acme Cloud Python SDK (demo)", "pypi-acme-cloud.json"),
    (TrackedPackage.Registry.NPM, "@acme/cloud-sdk", "Acme Cloud JS SDK (demo)", "npm-acme-cloud-sdk.json"),
    (
        TrackedPackage.Registry.DOCKER,
        "acme/cloud-agent",
        "Acme Cloud agent image (demo)",
        "docker-acme-cloud-agent.json",
    ),
    (TrackedPackage.Registry.GITHUB, "acme/cloud-cli", "Acme Cloud CLI releases (demo)", "github-acme-cloud-cli.json"),
]


def metrics_demo_load() -> dict[str, int]:
    """The Value pages on the demo: the replayed download series, then health and the channel map computed
    from the demo's messages (run after the sources demo has loaded them)."""
    counts = downloads_demo_load()
    snapshot = health_services.health_recompute()
    counts["health messages"] = snapshot.messages if snapshot else 0
    return counts


def downloads_demo_load(*, today: dt.date | None = None) -> dict[str, int]:
    """Track Acme Cloud's four demo packages and replay their recorded answers; returns counts."""
    today = today or timezone.now().astimezone(dt.UTC).date()
    recordings = {file: json.loads((DATA / file).read_text(encoding="utf-8")) for *_, file in PACKAGES}
    last = max(dt.date.fromisoformat(r["recorded_on"]) for data in recordings.values() for r in data["responses"])
    shift = today - last  # the last recording becomes today's fetch, so its figures run to yesterday
    months = 0
    with transaction.atomic():
        for registry, name, label, file in PACKAGES:
            package, _ = TrackedPackage.objects.get_or_create(
                registry=registry, name=name, defaults={"label": label, "is_demo": True}
            )
            for response in recordings[file]["responses"]:
                recorded = dt.date.fromisoformat(response["recorded_on"])
                result = _replay(package, response["body"], recorded, shift)
                services.package_store(package=package, result=result, today=recorded + shift)
            months += package.months.count()
        if not DownloadFetchRun.objects.filter(trigger=DownloadFetchRun.Trigger.DEMO).exists():
            now = timezone.now()
            DownloadFetchRun.objects.create(
                trigger=DownloadFetchRun.Trigger.DEMO,
                status=DownloadFetchRun.Status.SUCCEEDED,
                started_at=now,
                finished_at=now,
                packages_fetched=len(PACKAGES),
            )
        services.community_activity_recompute(today=today)
    return {"downloads packages": len(PACKAGES), "downloads months": months}


def _replay(package: TrackedPackage, body: Any, recorded: dt.date, shift: timedelta) -> DailyCounts | CumulativeTotal:
    what = f"demo {package.name}"
    if package.registry == TrackedPackage.Registry.PYPI:
        return _shifted(pypi.parse(body, what=what, today=recorded), shift)
    if package.registry == TrackedPackage.Registry.NPM:
        return _shifted(npm.parse(body, what=what, today=recorded), shift)
    if package.registry == TrackedPackage.Registry.DOCKER:
        return docker.parse(body, what=what)
    total, _, _ = github.parse_page(body, what=what)
    return CumulativeTotal(total=total)


def _shifted(counts: DailyCounts, shift: timedelta) -> DailyCounts:
    return DailyCounts(days={day + shift: n for day, n in counts.days.items()})
