"""Collaborators credited and kudos per team: the helpers from other teams, in front of an executive."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse

from townsquare.board.models import Kudos, Task
from townsquare.board.selectors import Period, kudos_summary
from townsquare.core.quarters import Quarter, quarter_bounds, quarter_end, quarter_start
from townsquare.value.sections import SectionData, empty, figure, filled, section

KEY, TITLE = "credit", "Work finished and the people who helped"
INTRO = (
    "Tasks DevRel finished on the board, and the colleagues from other teams credited on them "
    "or thanked for their help."
)
TOP_PEOPLE = 10


@section(key=KEY, title=TITLE, position=40)
def build(quarter: Quarter) -> SectionData:
    start, end = quarter_bounds(quarter)
    done = Task.objects.filter(done_at__gte=start, done_at__lt=end).count()
    period = Period(start=quarter_start(quarter), end=quarter_end(quarter), label=quarter.label)
    kudos = period.apply(Kudos.objects.all())
    totals = kudos.aggregate(
        credits=Count("id", filter=Q(kind=Kudos.Kind.CREDIT)),
        thanks=Count("id", filter=Q(kind=Kudos.Kind.THANKS)),
        people=Count("user", distinct=True),
        named=Count("name", distinct=True, filter=Q(user__isnull=True) & ~Q(name="")),
    )
    if not done and not (totals["credits"] or totals["thanks"]):
        return empty(KEY, TITLE, f"No task was finished and no kudos were given in {quarter.label}.", intro=INTRO)
    link = reverse("board:kudos") + f"?quarter={quarter.key}"
    summary = kudos_summary(period=period)
    teams = summary["teams"]
    people = summary["people"][:TOP_PEOPLE]
    figures = {
        "tasks_done": figure("Tasks finished", done, "count", reverse("board:done")),
        "collaborators_credited": figure(
            "Colleagues credited or thanked", totals["people"] + totals["named"], "count", link
        ),
        "credits": figure("Collaborator credits", totals["credits"], "count", link),
        "thanks": figure("Thank-yous", totals["thanks"], "count", link),
        "teams_credited": figure("Teams credited", len(teams), "count", link),
    }
    tables = [
        {
            "title": "Kudos per team",
            "columns": ["Team", "Credits", "Thanks", "People"],
            "rows": [[t["team__name"], t["credits"], t["thanks"], t["people"]] for t in teams],
            "links": [reverse("board:kudos-team", args=[t["team__slug"]]) + f"?quarter={quarter.key}" for t in teams],
            "link": link,
        }
    ]
    if people:
        tables.append(
            {
                "title": "Most credited colleagues",
                "columns": ["Person", "Credits", "Thanks"],
                "rows": [[p["name"], p["credits"], p["thanks"]] for p in people],
                "links": [
                    reverse("board:kudos-person", args=[p["user_id"]]) + f"?quarter={quarter.key}" for p in people
                ],
                "link": link,
            }
        )
    charts = []
    if teams:
        charts.append(
            {
                "title": f"Kudos per team, {quarter.label}",
                "kind": "stacked",
                "labels": [t["team__name"] for t in teams],
                "series": [
                    {"name": "Credits", "values": [t["credits"] for t in teams]},
                    {"name": "Thanks", "values": [t["thanks"] for t in teams]},
                ],
                "unit": "kudos",
                "takeaway": f"{len(teams)} team{'s' if len(teams) != 1 else ''} helped DevRel finish {done} "
                f"task{'s' if done != 1 else ''} in {quarter.label}.",
                "link": link,
            }
        )
    return filled(KEY, TITLE, intro=INTRO, figures=figures, tables=tables, charts=charts)
