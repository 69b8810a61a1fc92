"""Downloads: tracked packages, fetching them, and turning what registries said into calendar months.

Stored days and snapshots are only ever added to or corrected, never removed by a fetch; months are
recomputed from them. So a fetch that fails, returns nothing or returns garbage leaves every stored month
as it was, and running a fetch twice for the same days stores the same months.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from townsquare.core.errors import TownsquareError
from townsquare.metrics.downloads import fetcher_for
from townsquare.metrics.downloads.base import CumulativeTotal, DailyCounts, FetchError
from townsquare.metrics.models import (
    CommunityActivityMonth,
    DownloadFetchError,
    DownloadFetchRun,
    PackageDay,
    PackageMonth,
    PackageSnapshot,
    TrackedPackage,
)
from townsquare.sources.models import Message

logger = logging.getLogger(__name__)

# npm days are re-read this far back on every fetch: the registry fills in late days after midnight UTC.
NPM_OVERLAP_DAYS = 7
# A run still "running" after this long belonged to a worker that died; a new request may replace it.
STALE_RUN = timedelta(hours=2)
# A month's increase is still given when the previous month's last reading is at most this many days before
# the month began (marked partial); an older one would fold more than a month into one figure.
READING_SLACK_DAYS = 7
# Community activity is compared over at least this many months, even before the first download month.
ACTIVITY_MONTHS = 24


# ---------------------------------------------------------------- packages


def package_add(*, registry: str, name: str, label: str = "", is_demo: bool = False) -> TrackedPackage:
    if registry not in TrackedPackage.Registry.values:
        raise TownsquareError(f"unknown registry {registry!r}", record="registry")
    try:
        clean = fetcher_for(registry).name_clean(name)
    except ValueError as exc:
        raise TownsquareError(str(exc), record="name") from exc
    if TrackedPackage.objects.filter(registry=registry, name=clean).exists():
        raise TownsquareError(f"{clean} is already tracked", record="name")
    try:
        with transaction.atomic():
            return TrackedPackage.objects.create(
                registry=registry, name=clean, label=label.strip()[:120], is_demo=is_demo
            )
    except IntegrityError as exc:  # a concurrent add of the same package
        raise TownsquareError(f"{clean} is already tracked", record="name") from exc


def package_update(*, package: TrackedPackage, label: str, enabled: bool) -> TrackedPackage:
    package.label = label.strip()[:120]
    package.enabled = enabled
    package.save(update_fields=["label", "enabled"])
    return package


def package_remove(*, package: TrackedPackage) -> None:
    """Stop tracking a package and drop its stored figures (disable it instead to keep them)."""
    package.delete()


# ---------------------------------------------------------------- runs


def fetch_run_request(
    *, by: User | None = None, trigger: str = DownloadFetchRun.Trigger.MANUAL
) -> tuple[DownloadFetchRun, bool]:
    """A queued run for the caller to enqueue, or the run already under way (``created`` False)."""
    with transaction.atomic():
        active = DownloadFetchRun.objects.select_for_update().filter(
            status__in=[DownloadFetchRun.Status.QUEUED, DownloadFetchRun.Status.RUNNING]
        )
        cutoff = timezone.now() - STALE_RUN
        for run in active:
            if (run.started_at or run.created_at) >= cutoff:
                return run, False
            run.status, run.finished_at = DownloadFetchRun.Status.FAILED, timezone.now()
            run.save(update_fields=["status", "finished_at"])
        user = by if by is not None and by.pk else None
        return DownloadFetchRun.objects.create(trigger=trigger, requested_by=user), True


def downloads_fetch(
    *,
    run: DownloadFetchRun | None = None,
    packages: Iterable[TrackedPackage] | None = None,
    today: dt.date | None = None,
) -> DownloadFetchRun:
    """Fetch every enabled package (or ``packages``); one package's failure is recorded and the rest go on.

    A queued ``run`` is claimed with a conditional UPDATE, so a task delivered twice fetches once.
    """
    now = timezone.now()
    today = today or now.astimezone(dt.UTC).date()
    if run is None:
        run = DownloadFetchRun.objects.create(trigger=DownloadFetchRun.Trigger.SCHEDULE)
    claimed = DownloadFetchRun.objects.filter(pk=run.pk, status=DownloadFetchRun.Status.QUEUED).update(
        status=DownloadFetchRun.Status.RUNNING, started_at=now
    )
    if not claimed:
        logger.info("downloads fetch %s: already claimed", run.pk)
        run.refresh_from_db()
        return run
    chosen = (
        list(packages) if packages is not None else list(TrackedPackage.objects.filter(enabled=True, is_demo=False))
    )
    fetched = failed = 0
    for package in chosen:
        if package_fetch(package=package, run=run, today=today):
            fetched += 1
        else:
            failed += 1
    community_activity_recompute(today=today)
    run.packages_fetched, run.packages_failed = fetched, failed
    run.status = (
        DownloadFetchRun.Status.SUCCEEDED
        if not failed
        else DownloadFetchRun.Status.PARTIAL
        if fetched
        else DownloadFetchRun.Status.FAILED
    )
    run.finished_at = timezone.now()
    run.save(update_fields=["packages_fetched", "packages_failed", "status", "finished_at"])
    logger.info("downloads fetch %s: %s fetched, %s failed", run.pk, fetched, failed)
    return run


def package_fetch(*, package: TrackedPackage, run: DownloadFetchRun, today: dt.date) -> bool:
    """Fetch one package and store what it gave; on failure record why on the run. True if stored."""
    fetcher = fetcher_for(package.registry)
    try:
        result = fetcher.fetch(package.name, since=_since(package), today=today)
        package_store(package=package, result=result, today=today)
    except FetchError as exc:
        _record_error(run, package, exc.message, permanent=exc.permanent)
        return False
    except Exception as exc:  # a bug in one parser must not cost the other packages their fetch
        logger.exception("downloads fetch %s: package %s failed unexpectedly", run.pk, package.pk)
        _record_error(run, package, f"internal error ({type(exc).__name__}); see the server log", permanent=False)
        return False
    return True


def _since(package: TrackedPackage) -> dt.date | None:
    if package.registry != TrackedPackage.Registry.NPM:
        return None
    last = package.days.aggregate(last=Max("day"))["last"]
    return last - timedelta(days=NPM_OVERLAP_DAYS) if last else None


def _record_error(run: DownloadFetchRun, package: TrackedPackage, reason: str, *, permanent: bool) -> None:
    DownloadFetchError.objects.create(
        run=run,
        package=package,
        package_name=f"{package.get_registry_display()} {package.name}",
        reason=reason,
        permanent=permanent,
    )
    TrackedPackage.objects.filter(pk=package.pk).update(last_error=reason)


# ---------------------------------------------------------------- storing


@transaction.atomic
def package_store(*, package: TrackedPackage, result: DailyCounts | CumulativeTotal, today: dt.date) -> None:
    """Keep what a registry said and recompute the package's months; nothing is stored for an empty answer."""
    if isinstance(result, DailyCounts):
        if not result.days:
            raise FetchError(f"{package.name}: the registry returned no days of data", permanent=False)
        _store_days(package, result.days)
        _months_from_days(package, today)
    else:
        now = timezone.now()
        PackageSnapshot.objects.update_or_create(
            package=package, taken_on=today, defaults={"total": result.total, "taken_at": now}
        )
        first = package.snapshots.aggregate(first=Min("taken_on"))["first"]
        if package.counting_since != first:
            package.counting_since = first
            package.save(update_fields=["counting_since"])
        _months_from_snapshots(package, today)
    package.last_fetched_at, package.last_error = timezone.now(), ""
    package.save(update_fields=["last_fetched_at", "last_error"])


def _store_days(package: TrackedPackage, days: dict[dt.date, int]) -> None:
    existing = dict(package.days.filter(day__in=list(days)).values_list("day", "id"))
    current = dict(package.days.filter(day__in=list(days)).values_list("day", "downloads"))
    new = [PackageDay(package=package, day=day, downloads=n) for day, n in days.items() if day not in existing]
    changed = [
        PackageDay(id=existing[day], package=package, day=day, downloads=n)
        for day, n in days.items()
        if day in existing and current[day] != n
    ]
    PackageDay.objects.bulk_create(new, batch_size=500)
    PackageDay.objects.bulk_update(changed, ["downloads"], batch_size=500)


@dataclass
class _Month:
    downloads: int | None
    days_counted: int
    complete: bool
    note: str


def _months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _last_day(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _months_from_days(package: TrackedPackage, today: dt.date) -> None:
    rows = (
        package.days.annotate(m=TruncMonth("day"))
        .values("m")
        .annotate(total=Sum("downloads"), counted=Count("id"))
        .order_by("m")
    )
    by_month = {_as_date(r["m"]): (r["total"], r["counted"]) for r in rows}
    if not by_month:
        return
    this_month = today.replace(day=1)
    derived: dict[dt.date, _Month] = {}
    for month in _months_between(min(by_month), max(max(by_month), this_month)):
        total, counted = by_month.get(month, (None, 0))
        length = _last_day(month).day
        if month >= this_month:
            note = "month in progress" if counted else "month in progress: no day reported yet"
            derived[month] = _Month(total, counted, False, note)
        elif not counted:
            derived[month] = _Month(None, 0, False, "no day reported")
        elif counted < length:
            derived[month] = _Month(total, counted, False, f"{counted} of {length} days reported")
        else:
            derived[month] = _Month(total, counted, True, "")
    _write_months(package, derived)


def _months_from_snapshots(package: TrackedPackage, today: dt.date) -> None:
    """Monthly increases of an all-time total: last reading of a month minus last reading of the month before.

    The month counting began has no monthly figure (its reading includes every earlier download); a month
    without a reading, or whose previous month has none, is a gap; a total that fell (deleted releases,
    a reset repository) gives no figure rather than a negative one.
    """
    readings = list(package.snapshots.order_by("taken_on").values_list("taken_on", "total"))
    if not readings:
        return
    first_day, first_total = readings[0]
    last_of: dict[dt.date, tuple[dt.date, int]] = {}
    for day, total in readings:
        last_of[day.replace(day=1)] = (day, total)
    this_month = today.replace(day=1)
    derived: dict[dt.date, _Month] = {}
    previous: tuple[dt.date, int] | None = None
    for month in _months_between(first_day, max(max(last_of), this_month)):
        end = last_of.get(month)
        in_progress = month >= this_month
        if end is None:
            derived[month] = _Month(None, 0, False, "month in progress" if in_progress else "no reading this month")
        elif previous is None:
            added = end[1] - first_total
            derived[month] = _Month(
                None,
                0,
                False,
                f"counting began on {first_day:%Y-%m-%d} at {first_total:,} all-time; "
                f"{added:+,} by {end[0]:%Y-%m-%d}, not a monthly figure",
            )
        elif previous[0] < month - timedelta(days=READING_SLACK_DAYS):
            derived[month] = _Month(
                None, 0, False, f"no reading near the end of the previous month (last on {previous[0]:%Y-%m-%d})"
            )
        elif end[1] < previous[1]:
            derived[month] = _Month(
                None, 0, False, f"the all-time total fell from {previous[1]:,} to {end[1]:,} (deleted files?)"
            )
        else:
            # Readings are daily: one on the month's last day (or the day before) closes it.
            exact = previous[0] >= month - timedelta(days=2) and end[0] >= _last_day(month) - timedelta(days=1)
            if in_progress:
                note = f"month in progress (to {end[0]:%Y-%m-%d})"
            else:
                note = "" if exact else f"from the reading on {previous[0]:%Y-%m-%d} to the one on {end[0]:%Y-%m-%d}"
            derived[month] = _Month(end[1] - previous[1], 0, exact and not in_progress, note)
        if end is not None:
            previous = end
    _write_months(package, derived)


def _write_months(package: TrackedPackage, derived: dict[dt.date, _Month]) -> None:
    existing = {row.month: row for row in package.months.all()}
    new, changed = [], []
    for month, figure in derived.items():
        row = existing.get(month)
        values = (figure.downloads, figure.days_counted, figure.complete, figure.note[:300])
        if row is None:
            new.append(PackageMonth(package=package, month=month, **_fields(values)))
        elif (row.downloads, row.days_counted, row.complete, row.note) != values:
            for name, value in _fields(values).items():
                setattr(row, name, value)
            changed.append(row)
    PackageMonth.objects.bulk_create(new)
    PackageMonth.objects.bulk_update(changed, ["downloads", "days_counted", "complete", "note", "updated_at"])


def _fields(values: tuple[int | None, int, bool, str]) -> dict[str, Any]:
    return {
        "downloads": values[0],
        "days_counted": values[1],
        "complete": values[2],
        "note": values[3],
        "updated_at": timezone.now(),
    }


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


# ---------------------------------------------------------------- community activity


def community_activity_recompute(*, today: dt.date | None = None) -> int:
    """Community messages and active members per calendar month (UTC), replacing the stored months.

    Community means a known member who is neither staff nor a bot, on an identity that is not a bot (the
    rule the weekly report uses). Months start at the first community message, so the time before any
    source was connected is a gap, not a zero.
    """
    today = today or timezone.now().astimezone(dt.UTC).date()
    this_month = today.replace(day=1)
    earliest = PackageMonth.objects.aggregate(first=Min("month"))["first"]
    start = this_month
    for _ in range(ACTIVITY_MONTHS - 1):
        start = (start - timedelta(days=1)).replace(day=1)
    if earliest and earliest < start:
        start = earliest
    since = dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)
    rows = (
        Message.objects.filter(
            created_at__gte=since,
            author__isnull=False,
            author__is_bot=False,
            author__member__is_staff=False,
            author__member__is_bot=False,
        )
        .annotate(m=TruncMonth("created_at", tzinfo=dt.UTC))
        .values("m")
        .annotate(messages=Count("id"), members=Count("author__member", distinct=True))
        .order_by()
    )
    counts = {_as_date(r["m"]): (r["messages"], r["members"]) for r in rows}
    now = timezone.now()
    with transaction.atomic():
        CommunityActivityMonth.objects.filter(month__gte=start).delete()
        if counts:
            stored = []
            for month in _months_between(min(counts), this_month):
                messages, members = counts.get(month, (0, 0))
                stored.append(
                    CommunityActivityMonth(month=month, messages=messages, active_members=members, computed_at=now)
                )
            CommunityActivityMonth.objects.bulk_create(stored)
    return len(counts)
