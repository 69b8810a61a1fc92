from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone

from townsquare.core import hooks, sparklines
from townsquare.people.models import (
    Account,
    Identity,
    Member,
    MergeRecord,
    MergeSuggestion,
    Organization,
    Segment,
    Team,
    TeamMembership,
)


def teams_with_counts() -> QuerySet[Team]:
    return Team.objects.annotate(member_count=Count("memberships"))


def team_with_members(*, slug: str) -> Team:
    memberships = TeamMembership.objects.select_related("user").order_by("-is_lead", "user__first_name")
    return Team.objects.prefetch_related(Prefetch("memberships", queryset=memberships)).get(slug=slug)


# ---------------------------------------------------------------- the people directory

DIRECTORY_PAGE_SIZE = 50

# The directory's orders: the default puts who was active lately first (people never seen last).
DIRECTORY_SORTS = {
    "recent": (F("last_seen").desc(nulls_last=True), "display_name", "pk"),
    "name": ("display_name", "pk"),
    "newest": (F("first_seen").desc(nulls_last=True), "display_name", "pk"),
    "oldest": (F("first_seen").asc(nulls_last=True), "display_name", "pk"),
}
DEFAULT_SORT = "recent"
# Activity segments a community manager asks for, by first and last seen (days before now).
ACTIVITY_LABELS = {
    "active": "Active this month",  # last seen in the last 30 days
    "newcomers": "New this month",  # first seen in the last 30 days
    "drifting": "Drifting away",  # active the quarter before, silent this one
    "dormant": "Dormant",  # silent for more than 6 months
}
ACTIVE_DAYS, QUARTER_DAYS, DORMANT_DAYS = 30, 91, 182

DIRECTORY_SORT_LABELS = {
    "recent": "Recently active first",
    "name": "Name",
    "newest": "Newest members first",
    "oldest": "Longest-standing first",
}


@dataclass(frozen=True)
class DirectoryFilters:
    q: str = ""
    organization: int | None = None
    tier: str = ""
    staff: str = ""  # "", "staff", "community"
    channel: str = ""  # a realm kind: "github", "slack", ...
    sort: str = DEFAULT_SORT  # a key of DIRECTORY_SORTS
    activity: str = ""  # a key of ACTIVITY_WINDOWS

    @property
    def active(self) -> bool:
        return bool(self.q.strip() or self.organization or self.tier or self.staff or self.channel or self.activity)


def realm_kind(realm: str) -> str:
    """``slack:T024BE7LD`` -> ``slack``: the channel kind a realm belongs to."""
    return realm.split(":", 1)[0]


def member_directory(*, filters: DirectoryFilters) -> QuerySet[Member]:
    """Members matching the directory's search and filters, by name. Callers paginate, then call
    :func:`member_directory_page_details` for the page's rows (a fixed number of queries)."""
    rows = Member.objects.select_related("organization__account", "team")
    q = filters.q.strip()
    if q:
        # One UNION of three cheap scans, then rows by id: an OR across tables would make the
        # database walk the name index and test every member against the subqueries.
        matches = (
            Member.objects.filter(Q(display_name__icontains=q) | Q(primary_email__icontains=q))
            .order_by()
            .values("pk")
            .union(
                Member.objects.filter(organization_id__in=Organization.objects.filter(name__icontains=q).values("pk"))
                .order_by()
                .values("pk"),
                Identity.objects.filter(Q(handle__icontains=q) | Q(email__icontains=q) | Q(display_name__icontains=q))
                .order_by()
                .values("member_id"),
            )
        )
        rows = rows.filter(pk__in=matches)
    if filters.organization:
        rows = rows.filter(organization_id=filters.organization)
    if filters.tier == "customer":
        rows = rows.filter(organization__account__isnull=False)
    elif filters.tier:
        rows = rows.filter(organization__account__tier=filters.tier)
    if filters.staff == "staff":
        rows = rows.filter(is_staff=True)
    elif filters.staff == "community":
        rows = rows.filter(is_staff=False)
    if filters.activity:
        rows = rows.filter(_activity_q(filters.activity, timezone.now()))
    if filters.channel:
        # The kind's realms by name, so the (realm, external_id) index finds their identities: a
        # LIKE 'slack:%' cannot use it under a non-C collation and reads every identity instead.
        in_realm = Identity.objects.filter(realm__in=[r for r in realms() if realm_kind(r) == filters.channel])
        rows = rows.filter(pk__in=in_realm.values("member_id"))
    return rows.order_by(*DIRECTORY_SORTS.get(filters.sort, DIRECTORY_SORTS[DEFAULT_SORT]))


def _activity_q(activity: str, now: dt.datetime) -> Q:
    days = dt.timedelta(days=1)
    if activity == "active":
        return Q(last_seen__gte=now - ACTIVE_DAYS * days)
    if activity == "newcomers":
        return Q(first_seen__gte=now - ACTIVE_DAYS * days)
    if activity == "drifting":
        return Q(last_seen__gte=now - 2 * QUARTER_DAYS * days, last_seen__lt=now - QUARTER_DAYS * days)
    if activity == "dormant":
        return Q(last_seen__lt=now - DORMANT_DAYS * days)
    return Q()


def member_directory_rows(*, filters: DirectoryFilters, chunk: int = 1000) -> Iterator[Member]:
    """Every member the filters match, in the directory's order, with identities and message counts attached:
    read ``chunk`` at a time, so an export of the whole community holds one chunk in memory."""
    ids = list(member_directory(filters=filters).values_list("pk", flat=True))
    for start in range(0, len(ids), chunk):
        part = ids[start : start + chunk]
        by_pk = Member.objects.select_related("organization__account", "team").in_bulk(part)
        yield from member_directory_page_details([by_pk[pk] for pk in part if pk in by_pk], activity=False)


def member_directory_page(*, filters: DirectoryFilters, page: str | int | None) -> Page:
    """One page of the directory, in a fixed number of queries whatever the page or the filters.

    With a search or filter, the matching ids are read once in order (one scan gives both the
    count and the page) instead of a COUNT scan followed by a second scan for the page.
    Either way the page's ids come first and its rows second: joining organisations, accounts and
    teams for every row an OFFSET skips cost more than the page itself.
    """
    ids = member_directory(filters=filters).values_list("pk", flat=True)
    # The page is of ids; its object_list is then replaced by the Member rows they name.
    found: Page[Any] = Paginator(list(ids) if filters.active else ids, DIRECTORY_PAGE_SIZE).get_page(page)
    by_pk = Member.objects.select_related("organization__account", "team").in_bulk(list(found.object_list))
    found.object_list = member_directory_page_details([by_pk[pk] for pk in found.object_list if pk in by_pk])
    return found


def member_directory_page_details(members: list[Member], *, activity: bool = True) -> list[Member]:
    """Attach identities (``.identity_list``, ``.channels``), ``.message_count`` and ``.activity`` (a 12-week
    sparkline) to a page of members."""
    ids = [m.pk for m in members]
    weeks = sparklines.week_starts()
    weekly: dict[int, dict[Any, int]] = defaultdict(dict)
    if activity:
        since = sparklines.window_start(weeks)
        for _handler, found in hooks.member_weekly_activity.call(member_ids=ids, since=since):
            for member_id, by_week in found.items():
                for week, n in by_week.items():
                    weekly[member_id][week] = weekly[member_id].get(week, 0) + n
    identities: dict[int, list[Identity]] = defaultdict(list)
    for identity in Identity.objects.filter(member_id__in=ids).order_by("realm", "handle"):
        identities[identity.member_id].append(identity)
    counts = member_message_counts(member_ids=ids)
    for member in members:
        member.identity_list = identities.get(member.pk, [])  # type: ignore[attr-defined]
        member.channels = sorted({realm_kind(i.realm) for i in member.identity_list})  # type: ignore[attr-defined]
        member.message_count = counts.get(member.pk, 0)  # type: ignore[attr-defined]
        if activity:
            points = sparklines.zero_filled(weeks, weekly.get(member.pk, {}))
            member.activity = sparklines.sparkline(points, width=96, height=22)  # type: ignore[attr-defined]
    return members


def member_message_counts(*, member_ids: list[int]) -> dict[int, int]:
    """Messages per member. Messages live in sources, above people: its handler of the
    ``member_message_counts`` hook answers for the whole list in one query."""
    totals: dict[int, int] = defaultdict(int)
    for _handler, counts in hooks.member_message_counts.call(member_ids=member_ids):
        for member_id, count in counts.items():
            totals[member_id] += count
    return dict(totals)


def realms() -> list[str]:
    """Every realm identities are in, in order."""
    # On PostgreSQL a DISTINCT reads every identity (tens of milliseconds at 70,000); this walks the
    # (realm, external_id) unique index instead, one probe per realm (a handful), on SQLite too.
    table = connection.ops.quote_name(Identity._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE realms(realm) AS (SELECT MIN(realm) FROM {table} UNION ALL "
            f"SELECT (SELECT MIN(i.realm) FROM {table} i WHERE i.realm > realms.realm) FROM realms "
            f"WHERE realms.realm IS NOT NULL) SELECT realm FROM realms WHERE realm IS NOT NULL"
        )
        return [realm for (realm,) in cursor.fetchall()]


def channel_kinds() -> list[str]:
    """The channel kinds people are seen on, for the directory filter."""
    return sorted({realm_kind(realm) for realm in realms()})


def member_with_identities(*, pk: int) -> Member:
    identities = Identity.objects.order_by("realm", "handle")
    return (
        Member.objects.select_related("organization__account", "team")
        .prefetch_related(Prefetch("identities", queryset=identities))
        .get(pk=pk)
    )


def member_history(*, member: Member) -> QuerySet[MergeRecord]:
    return MergeRecord.objects.filter(Q(target=member) | Q(source_member_id=member.pk)).select_related(
        "by", "undone_by"
    )


def open_suggestions() -> QuerySet[MergeSuggestion]:
    return (
        MergeSuggestion.objects.filter(status=MergeSuggestion.Status.OPEN)
        .select_related("member_a__organization", "member_b__organization")
        .prefetch_related("member_a__identities", "member_b__identities")
        .order_by("-created_at", "-id")
    )


def organizations_with_counts(*, q: str = "") -> QuerySet[Organization]:
    rows = (
        Organization.objects.select_related("account")
        .annotate(member_count=Count("members", distinct=True))
        .prefetch_related("domains")
    )
    if q.strip():
        rows = rows.filter(Q(name__icontains=q.strip()) | Q(domains__domain__icontains=q.strip())).distinct()
    return rows.order_by("name")


def accounts_list(*, tier: str = "") -> QuerySet[Account]:
    rows = Account.objects.select_related("organization").annotate(member_count=Count("organization__members"))
    if tier:
        rows = rows.filter(tier=tier)
    return rows.order_by("-annual_revenue", "name")


def segments_visible(*, user: Any) -> QuerySet[Segment]:
    """The segments a DevRel member sees: every shared one and their own."""
    return Segment.objects.filter(Q(shared=True) | Q(created_by=user)).select_related("created_by")
