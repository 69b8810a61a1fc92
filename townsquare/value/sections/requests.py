"""Requests served: per stakeholder team, points against budgets, service vs mentoring, teams now self-sufficient."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from townsquare.core.quarters import Quarter, quarter_bounds
from townsquare.intake.models import Request, RequestType
from townsquare.intake.selectors import QuarterSummary, quarter_summary
from townsquare.value.sections import SectionData, empty, figure, filled, last_quarters, section

KEY, TITLE = "requests", "Work for and with other teams"
INTRO = (
    "Requests stakeholder teams filed against their quarterly budgets. Service: DevRel did the work. "
    "Mentoring: DevRel taught the team to do it themselves."
)
# Requests that never became work: they count in no figure.
NOT_SERVED = (Request.Status.DECLINED, Request.Status.CANCELLED)


def _share(summary: QuarterSummary) -> float | None:
    return round(100 * summary.mentoring / summary.committed, 1) if summary.committed else None


def self_sufficient(quarter: Quarter) -> list[dict[str, Any]]:
    """Teams that stopped filing a service type after mentoring on it: (team, type, mentored on, last filed).

    Mentoring on a service type T is a request of T redirected to mentoring, or a request of T's mentoring
    alternative. The team counts as doing T themselves when it filed T before that mentoring, filed no T
    since, and the mentoring happened before the quarter's end.
    """
    _, end = quarter_bounds(quarter)
    rows = list(
        Request.objects.filter(created_at__lt=end)
        .exclude(status__in=NOT_SERVED)
        .select_related("team", "type", "original_type")
        .order_by("created_at", "pk")
        .only("pk", "created_at", "status", "team__name", "team__slug", "type__name", "type__mode",
              "type__mentoring_alternative_id", "original_type__name", "original_type__mentoring_alternative_id")
    )  # fmt: skip
    alternative_of: dict[int, list[RequestType]] = {}
    for service_type in RequestType.objects.filter(mode=RequestType.Mode.SERVICE, mentoring_alternative__isnull=False):
        alternative_of.setdefault(service_type.mentoring_alternative_id or 0, []).append(service_type)
    filed: dict[tuple[int, int], list[Any]] = {}
    mentored: dict[tuple[int, int], Any] = {}
    names: dict[int, str] = {}
    for row in rows:
        if row.type.mode == RequestType.Mode.SERVICE:
            if row.status == Request.Status.MENTORING:
                mentored.setdefault((row.team_id, row.type_id), row.created_at)
            else:
                filed.setdefault((row.team_id, row.type_id), []).append(row.created_at)
            names[row.type_id] = row.type.name
        else:
            if row.original_type_id is not None and row.original_type is not None:
                mentored.setdefault((row.team_id, row.original_type_id), row.created_at)
                names[row.original_type_id] = row.original_type.name
            for service_type in alternative_of.get(row.type_id, []):
                mentored.setdefault((row.team_id, service_type.pk), row.created_at)
                names[service_type.pk] = service_type.name
    teams = {r.team_id: r.team for r in rows}
    found = []
    for (team_id, type_id), when in sorted(mentored.items(), key=lambda kv: kv[1]):
        dates = filed.get((team_id, type_id), [])
        before = [d for d in dates if d < when]
        after = [d for d in dates if d > when]
        if before and not after:
            team = teams[team_id]
            found.append(
                {"team": team.name, "slug": team.slug, "type": names[type_id], "mentored": when, "last": before[-1]}
            )
    return found


@section(key=KEY, title=TITLE, position=30)
def build(quarter: Quarter) -> SectionData:
    summary = quarter_summary(quarter=quarter)
    if not summary.teams:
        return empty(KEY, TITLE, f"No team had a budget or filed a request in {quarter.label}.", intro=INTRO)
    link = reverse("intake:summary") + f"?quarter={quarter.key}"
    in_quarter = Request.objects.filter(budget__quarter=quarter.key)
    filed = in_quarter.exclude(status__in=NOT_SERVED).count()
    done = in_quarter.filter(status=Request.Status.DONE).count()
    share = _share(summary)
    quarters = last_quarters(quarter)
    shares = [share if q == quarter else _share(quarter_summary(quarter=q)) for q in quarters]
    own = [s for s in self_sufficient(quarter) if s["mentored"] < quarter_bounds(quarter)[1]]
    figures = {
        "requests_served": figure("Requests taken on", filed, "count", link),
        "requests_done": figure("Requests finished", done, "count", link),
        "points_spent": figure("Points spent", summary.spent, "points", link),
        "points_allowance": figure("Points budgeted", summary.allowance, "points", link),
        "mentoring_share": figure(
            "Mentoring share of committed points",
            share,
            "percent",
            link,
            "" if share is not None else "no points were committed",
        ),
        "teams_self_sufficient": figure("Teams now doing a task themselves", len(own), "count", link),
    }
    team_rows, team_links = [], []
    for team in summary.teams:
        balance = team.balance
        team_rows.append(
            [
                team.team.name,
                team.requests,
                team.service,
                team.mentoring,
                balance.spent if balance else None,
                balance.allowance if balance else None,
                f"{balance.used_percent}%" if balance else "no budget",
            ]
        )
        team_links.append(reverse("intake:team", args=[team.team.slug]))
    tables = [
        {
            "title": "Requests per team",
            "columns": ["Team", "Requests", "Service pts", "Mentoring pts", "Spent", "Budget", "Used"],
            "rows": team_rows,
            "links": team_links,
            "link": link,
        }
    ]
    if own:
        tables.append(
            {
                "title": "Teams that now do it themselves",
                "columns": ["Team", "Used to ask for", "Mentored on", "Last asked"],
                "rows": [[o["team"], o["type"], f"{o['mentored']:%b %-d, %Y}", f"{o['last']:%b %-d, %Y}"] for o in own],
                "links": [reverse("intake:team", args=[o["slug"]]) for o in own],
                "link": link,
            }
        )
    charts = [
        {
            "title": "Mentoring share of committed points, last four quarters",
            "kind": "line",
            "labels": [q.label for q in quarters],
            "series": [{"name": "Mentoring share (%)", "values": shares}],
            "unit": "%",
            "takeaway": (
                f"{share:g}% of the points teams committed in {quarter.label} went to mentoring."
                if share is not None
                else f"No points were committed in {quarter.label}."
            ),
            "link": link,
        },
        {
            "title": f"Points per team, {quarter.label}",
            "kind": "stacked",
            "labels": [t.team.name for t in summary.teams],
            "series": [
                {"name": "Service", "values": [t.service for t in summary.teams]},
                {"name": "Mentoring", "values": [t.mentoring for t in summary.teams]},
            ],
            "unit": "points",
            "takeaway": f"{len(summary.teams)} teams used {summary.spent} of {summary.allowance} budgeted points.",
            "link": link,
        },
    ]
    return filled(KEY, TITLE, intro=INTRO, figures=figures, tables=tables, charts=charts)
