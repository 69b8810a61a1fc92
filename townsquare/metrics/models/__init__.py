"""The metrics app's models, one module per part (downloads here; community health beside it)."""

from townsquare.metrics.models.downloads import (
    CommunityActivityMonth,
    DownloadFetchError,
    DownloadFetchRun,
    PackageDay,
    PackageMonth,
    PackageSnapshot,
    TrackedPackage,
)

__all__ = [
    "CommunityActivityMonth",
    "DownloadFetchError",
    "DownloadFetchRun",
    "PackageDay",
    "PackageMonth",
    "PackageSnapshot",
    "TrackedPackage",
]
