"""Questions the company's teams asked DevRel on their updates, and who now writes the community newsletter."""

from __future__ import annotations

from django.urls import reverse

from townsquare.core.quarters import Quarter, quarter_end, quarter_start
from townsquare.updates.selectors.digests import questions_per_team
from townsquare.updates.selectors.newsletter import devrel_text_share
from townsquare.value.sections import SectionData, empty, figure, filled, last_quarters, section

KEY, TITLE = "updates", "Updates that start conversations, and a newsletter marketing owns"
INTRO = (
    "Sales, support and engineering asked DevRel about the regular updates they receive; the newsletter's "
    "history shows how much of its text DevRel still writes while mentoring the community marketer."
)


@section(key=KEY, title=TITLE, position=45)
def build(quarter: Quarter) -> SectionData:
    start, end = quarter_start(quarter), quarter_end(quarter)
    teams = questions_per_team(start=start, end=quarter_start(quarter.next()))
    quarters = last_quarters(quarter)
    issues = devrel_text_share(since=quarter_start(quarters[0]), until=end)
    in_quarter = [i for i in issues if start <= i.period_end <= end]
    asked = sum(t.asked for t in teams)
    if not asked and not in_quarter:
        return empty(
            KEY,
            TITLE,
            f"No team asked a question on an update and no newsletter issue was written in {quarter.label}.",
            intro=INTRO,
        )
    answered = sum(t.answered for t in teams)
    updates_link = reverse("updates:index")
    newsletter_link = reverse("updates:newsletters")
    latest = in_quarter[-1] if in_quarter else None
    figures = {
        "questions_asked": figure("Questions asked on updates", asked, "count", updates_link),
        "questions_answered": figure("Questions answered", answered, "count", updates_link),
        "answer_share": figure(
            "Share answered",
            round(100 * answered / asked, 1) if asked else None,
            "percent",
            updates_link,
            "" if asked else "no question was asked",
        ),
        "teams_asking": figure("Teams asking", sum(1 for t in teams if t.team_id), "count", updates_link),
        "newsletter_issues": figure("Newsletter issues", len(in_quarter), "count", newsletter_link),
        "devrel_share_latest": figure(
            "DevRel's share of the latest issue's text",
            round(100 * latest.share, 1) if latest and latest.total_chars else None,
            "percent",
            newsletter_link,
            "" if latest and latest.total_chars else "no newsletter text was written this quarter",
        ),
    }
    tables = []
    if teams:
        tables.append(
            {
                "title": "Questions per team",
                "columns": ["Team", "Asked", "Answered"],
                "rows": [[t.team_name, t.asked, t.answered] for t in teams],
                "links": [updates_link for _ in teams],
                "link": updates_link,
            }
        )
    charts = []
    written = [i for i in issues if i.total_chars]
    if written:
        first, last = written[0], written[-1]
        charts.append(
            {
                "title": "DevRel's share of each newsletter issue's text, last four quarters",
                "kind": "line",
                "labels": [f"{i.period_end:%b %-d}" for i in written],
                "series": [{"name": "DevRel share (%)", "values": [round(100 * i.share, 1) for i in written]}],
                "unit": "%",
                "takeaway": (
                    f"DevRel wrote {100 * last.share:.0f}% of the latest issue, "
                    f"{'down' if last.share < first.share else 'up' if last.share > first.share else 'level'} "
                    f"from {100 * first.share:.0f}% in the first one shown."
                ),
                "link": newsletter_link,
            }
        )
    return filled(KEY, TITLE, intro=INTRO, figures=figures, tables=tables, charts=charts)
