"""Turn a report's stored JSON into what the page, PDF and deck show: figure rows, comparisons and charts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from townsquare.core import charts
from townsquare.value import sections
from townsquare.value.models import QuarterReport


def display(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:g}%"
    if unit == "money":
        return f"${value:,.0f}"
    if unit == "hours":
        return f"{value:g} h"
    if unit == "days":
        return f"{value:g} d"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def change(now: Any, before: Any, unit: str) -> str:
    if now is None or before is None:
        return ""
    delta = now - before
    if not delta:
        return "same"
    sign = "+" if delta > 0 else "−"
    if unit == "percent":
        return f"{sign}{abs(delta):g} pts"
    if before and unit in ("count", "money", "points"):
        return f"{sign}{abs(delta) / before * 100:.0f}%"
    return f"{sign}{display(abs(delta), unit)}"


@dataclass
class FigureRow:
    key: str
    label: str
    value: str
    previous: str
    change: str
    link: str
    note: str


@dataclass
class SectionView:
    key: str
    title: str
    intro: str
    empty: bool
    empty_reason: str
    note: str
    hidden: bool
    figures: list[FigureRow]
    tables: list[dict[str, Any]]
    charts: list[tuple[charts.Chart, dict[str, Any]]]
    previous_empty: bool
    previous_reason: str
    previous_tables: list[dict[str, Any]] = field(default_factory=list)


def _table(table: dict[str, Any]) -> dict[str, Any]:
    """The stored table with each row's link beside its cells (``links`` may be shorter than ``rows``)."""
    links = list(table.get("links", []))
    rows = [(links[i] if i < len(links) else "", row) for i, row in enumerate(table["rows"])]
    return {**table, "rows": rows}


def chart_of(spec: dict[str, Any]) -> charts.Chart:
    series = [charts.Series(s["name"], s["values"]) for s in spec["series"]]
    integer = spec.get("unit") != "%"
    if spec["kind"] == "line":
        return charts.line(spec["title"], spec["labels"], series, summary=spec["takeaway"], integer=integer)
    return charts.bars(
        spec["title"], spec["labels"], series, stacked=spec["kind"] == "stacked", summary=spec["takeaway"],
        integer=integer,
    )  # fmt: skip


def section_views(report: QuarterReport, *, include_hidden: bool = False) -> list[SectionView]:
    data = report.data.get("sections", {})
    previous = report.data.get("previous", {}).get("sections", {})
    views = []
    for definition in sections.ordered():
        now = data.get(definition.key)
        if now is None:
            continue  # a section added after this report was built: the report shows what it showed
        hidden = definition.key in report.hidden
        if hidden and not include_hidden:
            continue
        before = previous.get(definition.key) or sections.empty(definition.key, definition.title, "not built")
        rows = []
        for key, fig in sections.figure_items(now):
            old = before["figures"].get(key, {})
            rows.append(
                FigureRow(
                    key=key,
                    label=fig["label"],
                    value=display(fig["value"], fig["unit"]),
                    previous=display(old.get("value"), fig["unit"]) if old else "—",
                    change=change(fig["value"], old.get("value"), fig["unit"]),
                    link=fig["link"],
                    note=fig.get("note", ""),
                )
            )
        views.append(
            SectionView(
                key=definition.key,
                title=now["title"],
                intro=now.get("intro", ""),
                empty=now["empty"],
                empty_reason=now["empty_reason"],
                note=report.note_for(definition.key),
                hidden=hidden,
                figures=rows,
                tables=[_table(t) for t in now["tables"]],
                charts=[(chart_of(c), c) for c in now["charts"]],
                previous_empty=before["empty"],
                previous_reason=before["empty_reason"],
                previous_tables=[_table(t) for t in before["tables"]],
            )
        )
    return views


def goal_rows(report: QuarterReport) -> list[dict[str, Any]]:
    rows = []
    for goal in report.data.get("goals", []):
        comparator = {"gte": "≥", "lte": "≤"}.get(goal.get("comparator") or "", "")
        target = goal.get("target")
        rows.append(
            {
                **goal,
                "shown": display(goal.get("value"), goal.get("unit", "")) if goal.get("value") is not None else "",
                "target_shown": f"{comparator} {display(target, goal.get('unit', ''))}" if target is not None else "",
                "status": _status(goal),
            }
        )
    return rows


def _status(goal: dict[str, Any]) -> str:
    if goal.get("met") is not None:
        return "Met" if goal["met"] else "Not met"
    if not goal.get("figure"):
        return "Not measured"
    return "Not computable" if goal.get("value") is None else "No target set"


def all_charts(views: list[SectionView]) -> list[charts.Chart]:
    return [chart for view in views if not view.empty for chart, _ in view.charts]
