"""Community health, channels and downloads for the quarter, read from the Value pages' stored figures."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from townsquare.core.quarters import Quarter, quarter_of
from townsquare.metrics.corpus import month_parse, month_start
from townsquare.metrics.selectors.downloads import downloads_overview
from townsquare.metrics.selectors.health import channel_map_for, health_figures_for, snapshot_latest, sources_all
from townsquare.value.sections import SectionData, empty, figure, filled, last_quarters, section

KEY, TITLE = "community", "Community health, channels and downloads"
INTRO = (
    "How many people the community brought in, how fast they got answers, and how the product is used, "
    "from the Health, Channels and Downloads pages (CHAOSS definitions; community means neither staff nor bots)."
)


def _months_of(figures: dict[str, Any], quarter: Quarter) -> list[int]:
    return [i for i, m in enumerate(figures.get("months", [])) if quarter_of(month_start(month_parse(m))) == quarter]


def _sum(values: list[Any], idx: list[int]) -> int | None:
    known = [values[i] for i in idx if values[i] is not None]
    return sum(known) if known else None


def _health(figures: dict[str, Any], quarter: Quarter) -> dict[str, Any] | None:
    idx = _months_of(figures, quarter)
    if not idx:
        return None
    ttfr = figures["ttfr"]
    openers = sum(ttfr["openers"][i] or 0 for i in idx)
    within = sum((ttfr["within_24h"][i] or 0) * (ttfr["openers"][i] or 0) for i in idx)
    medians = [ttfr["median_h"][i] for i in idx if ttfr["median_h"][i] is not None]
    keys = figures.get("quarters", [])
    elephants = figures.get("elephant", [])
    elephant = elephants[keys.index(quarter.key)] if quarter.key in keys and len(elephants) == len(keys) else None
    return {
        "messages": _sum(figures["messages"]["community"], idx),
        "new": _sum(figures["new_contributors"]["community"], idx),
        "peak": max((figures["contributors"]["community"][i] or 0 for i in idx), default=None),
        "openers": openers,
        "within_24h": round(100 * within / openers, 1) if openers else None,
        "slowest_median_h": max(medians) if medians else None,
        "elephant": elephant,
        "months": len(idx),
    }


def _downloads(quarter: Quarter) -> tuple[int | None, bool]:
    overview = downloads_overview(months=24)
    totals = [t for t in overview.totals if quarter_of(t.month) == quarter]
    known = [t.downloads for t in totals if t.downloads is not None]
    if not known:
        return None, False
    return sum(known), len(totals) == 3 and all(t.complete for t in totals)


@section(key=KEY, title=TITLE, position=50)
def build(quarter: Quarter) -> SectionData:
    snapshot = snapshot_latest()
    figures = health_figures_for(snapshot=snapshot, source=None) if snapshot else None
    quarters = last_quarters(quarter)
    health = {q: _health(figures, q) for q in quarters} if figures and not figures.get("empty") else {}
    now = health.get(quarter)
    downloads, complete = _downloads(quarter)
    if now is None and downloads is None:
        reason = (
            "No community-health snapshot has been computed yet (Value → Health)."
            if snapshot is None
            else f"The stored messages and download figures do not reach {quarter.label}."
        )
        return empty(KEY, TITLE, reason, intro=INTRO)
    health_link, downloads_link = reverse("metrics:health"), reverse("metrics:downloads")
    partial = "" if now is None or now["months"] == 3 else f"only {now['months']} of the quarter's 3 months are stored"
    result: dict[str, dict[str, Any]] = {}
    if now is not None:
        result = {
            "community_messages": figure("Community messages", now["messages"], "count", health_link, partial),
            "new_contributors": figure("New community contributors", now["new"], "count", health_link, partial),
            "peak_contributors": figure("Community contributors, busiest month", now["peak"], "count", health_link),
            "ttfr_within_24h": figure(
                "Questions and issues answered within 24 h",
                now["within_24h"],
                "percent",
                health_link,
                "" if now["openers"] else "no question or issue was opened",
            ),
            "ttfr_slowest_median_h": figure(
                "Median time to first response (slowest month)",
                now["slowest_median_h"],
                "hours",
                health_link,
                "" if now["slowest_median_h"] is not None else "no opener was answered",
            ),
            "elephant_factor": figure("Elephant factor (organisations making half the work)", now["elephant"],
                                      "count", health_link),
        }  # fmt: skip
    result["downloads"] = figure(
        "Package downloads",
        downloads,
        "count",
        downloads_link,
        "" if downloads is None or complete else "some months are partial or missing for a package",
    )
    charts = []
    if health:
        charts.append(
            {
                "title": "Community messages and newcomers, last four quarters",
                "kind": "bars",
                "labels": [q.label for q in quarters],
                "series": [
                    {"name": "Messages", "values": [h["messages"] if h else None for h in health.values()]},
                    {"name": "New contributors", "values": [h["new"] if h else None for h in health.values()]},
                ],
                "unit": "",
                "takeaway": (
                    f"{now['new']} new people joined the community in {quarter.label}; "
                    f"{now['within_24h']}% of their questions were answered within a day."
                    if now and now["new"] is not None and now["within_24h"] is not None
                    else "Community activity per quarter."
                ),
                "link": health_link,
            }
        )
    tables = []
    channel_data = channel_map_for(snapshot=snapshot, window="3m") if snapshot else None
    if channel_data and not channel_data.get("empty"):
        names = {source.pk: source.name for source in sources_all()}
        rows = sorted(channel_data.get("channels", []), key=lambda c: -c.get("people", 0))
        tables.append(
            {
                "title": "Where the community talks (last three months of stored data)",
                "columns": ["Channel", "People", "Newcomers", "Only here"],
                "rows": [
                    [names.get(c["source"], "a removed source"), c["people"], c["newcomers"], c["only_here"]]
                    for c in rows
                ],
                "links": [""] * len(rows),
                "link": reverse("metrics:channels"),
            }
        )
    return filled(KEY, TITLE, intro=INTRO, figures=result, tables=tables, charts=charts)
