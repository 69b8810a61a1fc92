"""Reads for the Downloads page, its CSV and its API: stored months only, a fixed handful of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.utils import timezone

from townsquare.metrics.models import (
    CommunityActivityMonth,
    DownloadFetchError,
    DownloadFetchRun,
    PackageMonth,
    TrackedPackage,
)

# The page shows at most this many months; the CSV and API may ask for more.
DEFAULT_MONTHS = 24
MAX_MONTHS = 120


@dataclass(frozen=True)
class MonthFigure:
    month: dt.date
    downloads: int | None
    complete: bool
    note: str = ""
    # False for months before the package's first stored month: not missing, just not tracked yet.
    tracked: bool = True


@dataclass(frozen=True)
class PackageSeries:
    package: TrackedPackage
    figures: tuple[MonthFigure, ...]

    @property
    def values(self) -> list[int | None]:
        return [f.downloads for f in self.figures]

    @property
    def has_figures(self) -> bool:
        return any(f.downloads is not None for f in self.figures)


@dataclass(frozen=True)
class TotalFigure:
    month: dt.date
    downloads: int | None
    complete: bool
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActivityFigure:
    month: dt.date
    messages: int | None
    active_members: int | None


@dataclass(frozen=True)
class MonthRow:
    month: dt.date
    figures: tuple[MonthFigure, ...]
    total: TotalFigure
    activity: ActivityFigure


@dataclass(frozen=True)
class DownloadsOverview:
    months: tuple[dt.date, ...]
    series: tuple[PackageSeries, ...]
    totals: tuple[TotalFigure, ...]
    activity: tuple[ActivityFigure, ...]
    packages: tuple[TrackedPackage, ...]
    last_run: DownloadFetchRun | None
    last_errors: tuple[DownloadFetchError, ...] = field(default=())

    @property
    def has_demo(self) -> bool:
        return any(p.is_demo for p in self.packages)

    @property
    def has_figures(self) -> bool:
        return any(s.has_figures for s in self.series)

    @property
    def labels(self) -> list[str]:
        return [f"{m:%b %Y}" for m in self.months]

    @property
    def rows(self) -> list[MonthRow]:
        """The table on the page: newest month first."""
        return [
            MonthRow(month, tuple(s.figures[i] for s in self.series), self.totals[i], self.activity[i])
            for i, month in reversed(list(enumerate(self.months)))
        ]

    def table_header(self) -> list[str]:
        return [
            "Month",
            *(s.package.display_name for s in self.series),
            "Total downloads",
            "Total complete",
            "Community messages",
            "Active community members",
            "Notes",
        ]

    def table_rows(self) -> list[list[Any]]:
        """One row per month: figures as numbers (None for a gap), then what is partial and why."""
        rows = []
        for i, month in enumerate(self.months):
            notes = [
                f"{s.package.display_name}: {s.figures[i].note}"
                for s in self.series
                if s.figures[i].tracked and s.figures[i].note
            ]
            total, activity = self.totals[i], self.activity[i]
            rows.append(
                [
                    f"{month:%Y-%m}",
                    *(s.figures[i].downloads for s in self.series),
                    total.downloads,
                    total.complete,
                    activity.messages,
                    activity.active_members,
                    "; ".join(notes),
                ]
            )
        return rows


def _month_back(month: dt.date, count: int) -> dt.date:
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
    return month


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


# A stored month as read for the page: (downloads, complete, note).
_Stored = tuple[int | None, bool, str]


def downloads_overview(*, months: int = DEFAULT_MONTHS, today: dt.date | None = None) -> DownloadsOverview:
    """Every package's months and the total, beside community activity, over the last ``months`` months.

    Five queries whatever the number of packages or months: packages, their months in the window,
    community activity, the last run and its errors. Months and activity are read as plain values, not
    model instances: a page shows a dozen packages times 24 months, and building an instance per row cost
    more than the rest of the page's data together.
    """
    today = today or timezone.now().astimezone(dt.UTC).date()
    months = max(1, min(MAX_MONTHS, months))
    this_month = today.replace(day=1)
    start = _month_back(this_month, months - 1)
    packages = list(TrackedPackage.objects.order_by("registry", "name"))
    stored: dict[int, dict[dt.date, _Stored]] = {}
    for package_id, month, downloads, complete, note in (
        PackageMonth.objects.filter(month__gte=start, month__lte=this_month)
        .order_by()
        .values_list("package_id", "month", "downloads", "complete", "note")
    ):
        stored.setdefault(package_id, {})[month] = (downloads, complete, note)
    first_stored = min((month for rows in stored.values() for month in rows), default=this_month)
    window = _months(max(start, first_stored), this_month)

    series = tuple(_series(p, stored[p.pk], window) for p in packages if stored.get(p.pk))
    totals = tuple(_total(series, i, month) for i, month in enumerate(window))
    activity_rows = {
        month: (messages, members)
        for month, messages, members in CommunityActivityMonth.objects.filter(
            month__gte=window[0], month__lte=this_month
        ).values_list("month", "messages", "active_members")
    }
    activity = tuple(
        ActivityFigure(m, *activity_rows[m]) if m in activity_rows else ActivityFigure(m, None, None) for m in window
    )
    last_run = DownloadFetchRun.objects.select_related("requested_by").first()
    errors: tuple[DownloadFetchError, ...] = ()
    if last_run is not None:
        errors = tuple(last_run.errors.all())
    return DownloadsOverview(
        months=tuple(window),
        series=series,
        totals=totals,
        activity=activity,
        packages=tuple(packages),
        last_run=last_run,
        last_errors=errors,
    )


def _series(package: TrackedPackage, rows: dict[dt.date, _Stored], window: list[dt.date]) -> PackageSeries:
    first = min(rows)
    figures = []
    for month in window:
        row = rows.get(month)
        if row is None:
            figures.append(MonthFigure(month, None, False, "" if month < first else "no data", tracked=month >= first))
        else:
            figures.append(MonthFigure(month, *row))
    return PackageSeries(package=package, figures=tuple(figures))


def _total(series: tuple[PackageSeries, ...], index: int, month: dt.date) -> TotalFigure:
    """The sum of the packages' figures; complete only if every tracked package has a complete figure."""
    figures = [(s.package.display_name, s.figures[index]) for s in series if s.figures[index].tracked]
    known = [f.downloads for _, f in figures if f.downloads is not None]
    missing = tuple(name for name, f in figures if f.downloads is None)
    complete = bool(figures) and not missing and all(f.complete for _, f in figures)
    return TotalFigure(month, sum(known) if known else None, complete, missing)
