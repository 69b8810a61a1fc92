"""Feedback delivered and acted on: themes reported, routed, addressed, and the customers behind them."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.urls import reverse

from townsquare.core.quarters import Quarter, quarter_bounds
from townsquare.core.sql import chunked
from townsquare.feedback.models import Theme, ThemeMessage
from townsquare.feedback.selectors import PAYING_TIERS
from townsquare.value.sections import SectionData, empty, figure, filled, last_quarters, section

KEY, TITLE = "feedback", "Feedback delivered and acted on"
INTRO = (
    "What the community told us, where we routed it, and what the company changed because of it. "
    "People are counted once per theme; staff and bots are left out."
)
# A message counts when its author is a community member (neither staff nor a bot).
COUNTED = (
    Q(message__author__member__isnull=False)
    & Q(message__author__member__is_staff=False)
    & Q(message__author__member__is_bot=False)
    & Q(message__author__is_bot=False)
)
ACCOUNT = "message__author__member__organization__account"
ADDRESSED_LISTED = 15


def _live() -> Any:
    return Theme.objects.exclude(status=Theme.Status.MERGED)


def _quarter_feedback(
    start: dt.datetime, end: dt.datetime
) -> tuple[dict[int, str], dict[int, tuple[str, str, Decimal]]]:
    """({theme id: department name or ""}, {paying account id: (name, tier, annual revenue)}) of the quarter.

    One grouped pass over the quarter's counted theme messages gives both: the live themes the community
    wrote in (with where each is routed) and the paying customers whose people wrote. Each row is a distinct
    (theme, account) pair, the account NULL for people without one, so the messages are read once, not
    once per figure.
    """
    rows = (
        ThemeMessage.objects.filter(
            COUNTED, message__created_at__gte=start, message__created_at__lt=end, theme__in=_live()
        )
        .values_list("theme_id", "theme__department__name", f"{ACCOUNT}__id", f"{ACCOUNT}__name",
                     f"{ACCOUNT}__tier", f"{ACCOUNT}__annual_revenue")
        .distinct()
        .order_by()
    )  # fmt: skip
    themes: dict[int, str] = {}
    customers: dict[int, tuple[str, str, Decimal]] = {}
    for theme_id, department, account_id, name, tier, revenue in rows:
        themes[theme_id] = department or ""
        if account_id is not None and tier in PAYING_TIERS:
            customers[account_id] = (name, tier, revenue or Decimal(0))
    return themes, customers


def _paying_accounts_per_theme(
    theme_ids: list[int], *, before: dt.datetime
) -> dict[int, dict[int, tuple[str, str, Decimal]]]:
    """{theme id: paying accounts whose people wrote in it before ``before``}, in one query for all themes."""
    found: dict[int, dict[int, tuple[str, str, Decimal]]] = {}
    for ids in chunked(theme_ids):
        rows = (
            ThemeMessage.objects.filter(COUNTED, theme_id__in=ids, message__created_at__lt=before,
                                        **{f"{ACCOUNT}__tier__in": PAYING_TIERS})
            .values_list("theme_id", f"{ACCOUNT}__id", f"{ACCOUNT}__name", f"{ACCOUNT}__tier",
                         f"{ACCOUNT}__annual_revenue")
            .distinct()
        )  # fmt: skip
        for theme_id, pk, name, tier, revenue in rows:
            found.setdefault(theme_id, {})[pk] = (name, tier, revenue or Decimal(0))
    return found


def _counts(quarter: Quarter) -> tuple[int, int]:
    start, end = quarter_bounds(quarter)
    reported = _live().filter(first_seen__gte=start, first_seen__lt=end).count()
    addressed = _live().filter(addressed_at__gte=start, addressed_at__lt=end).count()
    return reported, addressed


@section(key=KEY, title=TITLE, position=20)
def build(quarter: Quarter) -> SectionData:
    start, end = quarter_bounds(quarter)
    active, customers = _quarter_feedback(start, end)
    addressed = list(
        _live()
        .filter(addressed_at__gte=start, addressed_at__lt=end)
        .select_related("department")
        .order_by("addressed_at", "pk")
    )
    if not active and not addressed:
        return empty(
            KEY,
            TITLE,
            f"No community feedback was recorded in {quarter.label} and no theme was addressed in it.",
            intro=INTRO,
        )
    index = reverse("feedback:index")
    reported = _live().filter(first_seen__gte=start, first_seen__lt=end).count()
    routed = Counter(name or "Not routed yet" for name in active.values())
    days = [
        (t.addressed_at - t.first_seen).total_seconds() / 86400
        for t in addressed
        if t.addressed_at and t.first_seen and t.addressed_at >= t.first_seen
    ]
    behind = _paying_accounts_per_theme([t.pk for t in addressed], before=end)
    addressed_customers = {pk: row for theme in addressed for pk, row in behind.get(theme.pk, {}).items()}
    enterprise_addressed = sum(
        1 for theme in addressed if any(tier == "enterprise" for _, tier, _ in behind.get(theme.pk, {}).values())
    )

    def revenue_of(theme: Theme) -> Decimal:
        return sum((r for _, _, r in behind.get(theme.pk, {}).values()), Decimal(0))

    # The table lists the addressed themes with the most revenue behind them; the count covers them all.
    shown = sorted(addressed, key=lambda t: (-revenue_of(t), t.addressed_at or end, t.pk))[:ADDRESSED_LISTED]
    addressed_rows: list[list[Any]] = []
    addressed_links: list[str] = []
    for theme in shown:
        waited = (theme.addressed_at - theme.first_seen).days if theme.addressed_at and theme.first_seen else None
        addressed_rows.append(
            [
                theme.title,
                theme.addressed_release or "—",
                theme.department.name if theme.department else "Not routed",
                waited,
                len(behind.get(theme.pk, {})),
                f"${revenue_of(theme):,.0f}",
            ]
        )
        addressed_links.append(reverse("feedback:theme", args=[theme.pk]))
    trend = [_counts(q) for q in last_quarters(quarter)]
    labels = [q.label for q in last_quarters(quarter)]
    revenue = float(sum((r for _, _, r in customers.values()), Decimal(0)))
    figures = {
        "themes_active": figure("Themes with community feedback", len(active), "count", index),
        "themes_reported": figure("New themes first reported", reported, "count", index),
        "themes_routed": figure(
            "Themes routed to a department",
            sum(n for name, n in routed.items() if name != "Not routed yet"),
            "count",
            index,
        ),
        "themes_addressed": figure("Themes addressed (release or docs)", len(addressed), "count", index),
        "themes_addressed_enterprise": figure(
            "Addressed themes raised by enterprise customers", enterprise_addressed, "count", index
        ),
        "median_days_to_address": figure(
            "Median days from first report to addressed",
            round(statistics.median(days), 1) if days else None,
            "days",
            index,
            "" if days else f"no theme was addressed in {quarter.label}",
        ),
        "paying_customers": figure("Paying customers who gave feedback", len(customers), "count", index),
        "customer_revenue": figure("Annual revenue of those customers", revenue, "money", index),
        "addressed_customers": figure(
            "Paying customers behind the addressed themes", len(addressed_customers), "count", index
        ),
        "addressed_revenue": figure(
            "Their annual revenue",
            float(sum((r for _, _, r in addressed_customers.values()), Decimal(0))),
            "money",
            index,
        ),
    }
    tables = [
        {
            "title": "Where the feedback went",
            "columns": ["Department", "Themes"],
            "rows": [[name, n] for name, n in sorted(routed.items(), key=lambda kv: (-kv[1], kv[0]))],
            "links": [""] * len(routed),
            "link": index,
        }
    ]
    if addressed_rows:
        tables.append(
            {
                "title": "Addressed this quarter"
                + (
                    f" (the {ADDRESSED_LISTED} with the most revenue behind them)"
                    if len(addressed) > len(shown)
                    else ""
                ),
                "columns": ["Theme", "Addressed in", "Department", "Days open", "Customers", "Their revenue"],
                "rows": addressed_rows,
                "links": addressed_links,
                "link": index,
            }
        )
    charts = [
        {
            "title": "Themes reported and addressed, last four quarters",
            "kind": "bars",
            "labels": labels,
            "series": [
                {"name": "New themes", "values": [r for r, _ in trend]},
                {"name": "Addressed", "values": [a for _, a in trend]},
            ],
            "unit": "themes",
            "takeaway": f"{len(addressed)} theme{'s' if len(addressed) != 1 else ''} addressed in {quarter.label}, "
            f"{reported} new reported.",
            "link": index,
        }
    ]
    return filled(KEY, TITLE, intro=INTRO, figures=figures, tables=tables, charts=charts)
