"""The Health and Channels pages' charts, built from stored figures through core.charts (which caches
each drawing under a digest of what it draws)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from townsquare.core import charts
from townsquare.core.charts import Chart, Series


def _series(name: str, values: Sequence[Any]) -> Series:
    return Series(name, list(values))


def _percent(values: Sequence[float | None]) -> list[float | None]:
    return [None if v is None else round(v * 100, 1) for v in values]


def health_charts(f: dict[str, Any], months: slice, quarters: slice) -> dict[str, Chart]:
    """Every chart of the Health page for the months (and quarters) the page shows."""
    labels = f["months"][months]
    q_labels = f["quarter_labels"][quarters]

    def m(values: Sequence[Any]) -> list[Any]:
        return list(values)[months]

    def q(values: Sequence[Any]) -> list[Any]:
        return list(values)[quarters]

    t = f["ttfr"]
    return {
        "contributors": charts.line(
            "Contributors",
            labels,
            [_series("Community", m(f["contributors"]["community"])), _series("Staff", m(f["contributors"]["staff"]))],
            summary="People with at least one message in the month; bots left out.",
            y_label="people",
        ),
        "new": charts.bars(
            "New Contributors",
            labels,
            [
                _series("Community", m(f["new_contributors"]["community"])),
                _series("Staff", m(f["new_contributors"]["staff"])),
            ],
            summary="People whose first message ever was in the month.",
            y_label="people",
        ),
        "inactive": charts.line(
            "Inactive Contributors",
            labels,
            [_series("Community", m(f["inactive_contributors"]))],
            summary="Community people active in the year before the last three months, silent in those three.",
            y_label="people",
        ),
        "messages": charts.bars(
            "Messages",
            labels,
            [
                _series("Community", m(f["messages"]["community"])),
                _series("Staff", m(f["messages"]["staff"])),
                _series("Bots", m(f["messages"]["bots"])),
            ],
            stacked=True,
            summary="Messages per month by who wrote them.",
        ),
        "ttfr": charts.line(
            "Time to First Response",
            labels,
            [
                _series("Median", m(t["median_h"])),
                _series("90th percentile", m(t["p90_h"])),
                _series("Median, community answers", m(t["median_h_community"])),
                _series("Median, staff answers", m(t["median_h_staff"])),
            ],
            summary="Hours from a question, issue or thread opener to the first reply by someone else.",
            y_label="hours",
            integer=False,
        ),
        "who": charts.bars(
            "Who answered first",
            labels,
            [_series("Community", m(t["by_community"])), _series("Staff", m(t["by_staff"]))],
            stacked=True,
            summary="Openers of the month by who gave the first response.",
        ),
        "within": charts.line(
            "Answered within 24 hours and 7 days",
            labels,
            [
                _series("Within 24 h", _percent(m(t["within_24h"]))),
                _series("Within 7 days", _percent(m(t["within_7d"]))),
            ],
            summary="Share of the month's openers, in per cent.",
            y_label="%",
            integer=False,
        ),
        "caf": charts.line(
            "Contributor Absence Factor",
            q_labels,
            [_series("Community", q(f["caf_community"])), _series("Community and staff", q(f["caf_everyone"]))],
            summary="Smallest number of people making half of the quarter's messages.",
            y_label="people",
        ),
        "elephant": charts.line(
            "Elephant Factor",
            q_labels,
            [_series("Organisations", q(f["elephant"]))],
            summary="Smallest number of organisations making half of the affiliated messages.",
        ),
        "diversity": charts.bars(
            "Organizational Diversity",
            q_labels,
            [
                _series("Organisations", q(f["organizations"])),
                _series("Customer organisations", q(f["customer_organizations"])),
            ],
            summary="Organisations whose people wrote in the quarter.",
        ),
        "onion": charts.bars(
            "Core, regular and casual contributors",
            q_labels,
            [_series("Core", q(f["core"])), _series("Regular", q(f["regular"])), _series("Casual", q(f["casual"]))],
            stacked=True,
            summary="Community people making the first 80 %, the next 15 % and the last 5 % of the quarter's messages.",
            y_label="people",
        ),
    }


def channel_charts(data: dict[str, Any], names: dict[int, str]) -> dict[str, Chart]:
    rows = data["channels"]
    labels = [names.get(r["source"], f"source {r['source']}") for r in rows]
    share = [
        (
            None if not r["people"] else round(100 * r["newcomers"] / r["people"], 1),
            None if not r["people"] else round(100 * r["core"] / r["people"], 1),
        )
        for r in rows
    ]
    return {
        "people": charts.bars(
            "Active people per channel",
            labels,
            [_series("Community", [r["people"] for r in rows]), _series("Staff", [r["staff"] for r in rows])],
            summary="People with at least one message on the channel in the window.",
        ),
        "tiers": charts.bars(
            "Newcomer and core share per channel",
            labels,
            [_series("Newcomers", [s[0] for s in share]), _series("Core", [s[1] for s in share])],
            summary="Share of each channel's active people who are newcomers, and who are core, in per cent.",
            y_label="%",
            integer=False,
        ),
        "overlap": charts.heatmap(
            "People active on both channels",
            labels,
            [_series(label, row) for label, row in zip(labels, data["overlap"], strict=True)],
            summary="Each cell counts the people active on both the row's and the column's channel; "
            "the diagonal is the channel's own active people.",
        ),
    }
