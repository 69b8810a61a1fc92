"""The metrics app's models, one module per area: downloads and community health."""

from __future__ import annotations

from townsquare.metrics.models.downloads import (
    CommunityActivityMonth,
    DownloadFetchError,
    DownloadFetchRun,
    PackageDay,
    PackageMonth,
    PackageSnapshot,
    TrackedPackage,
)
from townsquare.metrics.models.health import ChannelMap, ConsolidationScenario, HealthFigures, HealthSnapshot

__all__ = [
    "ChannelMap",
    "CommunityActivityMonth",
    "ConsolidationScenario",
    "DownloadFetchError",
    "DownloadFetchRun",
    "HealthFigures",
    "HealthSnapshot",
    "PackageDay",
    "PackageMonth",
    "PackageSnapshot",
    "TrackedPackage",
]
