"""The registry of figures a goal can be measured by, and how a goal's outcome is read from a built report.

Each figure is computed by one section (``sections/``) and stored in the report's data, so a goal and the
section beside it always show the same number. A figure that cannot be computed for the quarter (no data,
no snapshot, a section left empty) makes the goal say why instead of showing a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class FigureDef:
    key: str
    section: str
    label: str
    unit: str


FIGURES: dict[str, FigureDef] = {
    f.key: f
    for f in (
        FigureDef(
            "ttfr_slowest_median_h", "community", "Median time to first response, slowest month (hours)", "hours"
        ),
        FigureDef("ttfr_within_24h", "community", "Share of questions answered within 24 h (%)", "percent"),
        FigureDef("new_contributors", "community", "New community contributors", "count"),
        FigureDef("community_messages", "community", "Community messages", "count"),
        FigureDef("downloads", "community", "Package downloads", "count"),
        FigureDef("themes_addressed", "feedback", "Themes addressed", "count"),
        FigureDef("themes_addressed_enterprise", "feedback", "Themes addressed for enterprise customers", "count"),
        FigureDef("median_days_to_address", "feedback", "Median days from first report to addressed", "days"),
        FigureDef("paying_customers", "feedback", "Paying customers who gave feedback", "count"),
        FigureDef("requests_done", "requests", "Requests finished", "count"),
        FigureDef("points_spent", "requests", "Budget points spent", "points"),
        FigureDef("mentoring_share", "requests", "Mentoring share of committed points (%)", "percent"),
        FigureDef("teams_self_sufficient", "requests", "Teams now doing a task themselves", "count"),
        FigureDef("tasks_done", "credit", "Tasks finished", "count"),
        FigureDef("collaborators_credited", "credit", "Colleagues credited or thanked", "count"),
    )
}


def figure_choices() -> list[tuple[str, str]]:
    return [("", "No measurable target"), *((f.key, f.label) for f in FIGURES.values())]


def goal_outcome(goal: dict[str, Any], sections: dict[str, dict[str, Any]], quarter_label: str) -> dict[str, Any]:
    """The goal with its figure, whether the target was met, or why it cannot be measured."""
    outcome = {**goal, "value": None, "unit": "", "met": None, "reason": "", "link": "", "figure_label": ""}
    key = goal.get("figure") or ""
    if not key:
        outcome["reason"] = "No measurable target: the narrative says how it went."
        return outcome
    definition = FIGURES.get(key)
    if definition is None:
        outcome["reason"] = f"The figure {key!r} no longer exists in Townsquare; choose another."
        return outcome
    outcome["figure_label"], outcome["unit"] = definition.label, definition.unit
    data = sections.get(definition.section)
    if data is None:
        outcome["reason"] = "Its section is not part of this report."
        return outcome
    if data.get("empty"):
        outcome["reason"] = f"Cannot be computed: {data.get('empty_reason', '')}".strip()
        return outcome
    found = data.get("figures", {}).get(key)
    if found is None or found.get("value") is None:
        note = (found or {}).get("note") or f"no data for {quarter_label}"
        outcome["reason"] = f"Cannot be computed: {note}."
        outcome["link"] = (found or {}).get("link", "")
        return outcome
    value = found["value"]
    outcome["value"], outcome["link"] = value, found.get("link", "")
    target = goal.get("target")
    if target is not None and goal.get("comparator"):
        target_value = Decimal(str(target))
        current = Decimal(str(value))
        outcome["met"] = current >= target_value if goal["comparator"] == "gte" else current <= target_value
    return outcome
