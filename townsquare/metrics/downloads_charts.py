"""The Downloads page's charts, drawn by core.charts: a gap (None) stays a gap, never a zero."""

from __future__ import annotations

from townsquare.core import charts
from townsquare.metrics.selectors.downloads import DownloadsOverview


def downloads_chart(overview: DownloadsOverview) -> charts.Chart:
    series = [charts.Series(s.package.display_name, s.values) for s in overview.series]
    return charts.bars(
        "Downloads per calendar month",
        overview.labels,
        series,
        stacked=True,
        summary=_total_summary(overview),
        y_label="downloads",
    )


def activity_chart(overview: DownloadsOverview) -> charts.Chart:
    return charts.bars(
        "Community messages per calendar month",
        overview.labels,
        [charts.Series("Community messages", [a.messages for a in overview.activity])],
        summary="Messages by community members; staff and bots are not counted.",
        y_label="messages",
    )


def _total_summary(overview: DownloadsOverview) -> str:
    complete = [t for t in overview.totals if t.complete and t.downloads is not None]
    if not complete:
        return "No calendar month is complete yet for every package."
    last = complete[-1]
    text = f"{last.downloads:,} downloads in {last.month:%B %Y}, the last month complete for every package"
    before = [t for t in complete if t.month < last.month]
    previous = before[-1].downloads if before else None
    if previous:
        change = (last.downloads or 0) / previous - 1
        text += f" ({change:+.0%} on {before[-1].month:%B %Y})"
    return text + "."
