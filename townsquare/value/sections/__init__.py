"""The report's sections: each is one function from a quarter to plain JSON, registered in ``SECTIONS``.

A section's JSON (what the report stores, and what the page, PDF, deck and API render)::

    {"key", "title", "intro",            # what the section answers
     "empty": bool, "empty_reason": str,  # a quarter without data says so, never shows zeros
     "figures": {key: {"label", "value", "unit", "link", "note"}},   # value None: not computable, note says why
     "tables": [{"title", "columns", "rows", "links", "link"}],      # links: a URL (or "") per row
     "charts": [{"title", "kind", "labels", "series": [{"name", "values"}], "unit", "takeaway", "link"}]}

Adding a section (the updates app's "questions answered for sales and support" plugs in here) is one
function decorated with :func:`section`, in its own module imported at the bottom of this file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from townsquare.core.quarters import Quarter

SectionData = dict[str, Any]
Builder = Callable[[Quarter], SectionData]


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    position: int
    build: Builder


SECTIONS: dict[str, Section] = {}


def section(*, key: str, title: str, position: int) -> Callable[[Builder], Builder]:
    def register(build: Builder) -> Builder:
        SECTIONS[key] = Section(key=key, title=title, position=position, build=build)
        return build

    return register


def ordered() -> list[Section]:
    return sorted(SECTIONS.values(), key=lambda s: s.position)


def empty(key: str, title: str, reason: str, *, intro: str = "") -> SectionData:
    return {
        "key": key,
        "title": title,
        "intro": intro,
        "empty": True,
        "empty_reason": reason,
        "figures": {},
        "tables": [],
        "charts": [],
    }


def filled(
    key: str,
    title: str,
    *,
    intro: str,
    figures: dict[str, dict[str, Any]],
    tables: list[dict[str, Any]] | None = None,
    charts: list[dict[str, Any]] | None = None,
) -> SectionData:
    return {
        "key": key,
        "title": title,
        "intro": intro,
        "empty": False,
        "empty_reason": "",
        "figures": figures,
        # PostgreSQL's jsonb keeps no key order: the figures' order is stored beside them.
        "order": list(figures),
        "tables": tables or [],
        "charts": charts or [],
    }


def figure(label: str, value: float | None, unit: str, link: str, note: str = "") -> dict[str, Any]:
    """``unit``: count, percent, hours, days, points or money."""
    return {"label": label, "value": value, "unit": unit, "link": link, "note": note}


def figure_items(data: SectionData) -> list[tuple[str, dict[str, Any]]]:
    """The section's figures in the order its builder listed them."""
    figures = data.get("figures", {})
    order = [key for key in data.get("order", []) if key in figures]
    return [(key, figures[key]) for key in order + sorted(set(figures) - set(order))]


def last_quarters(quarter: Quarter, count: int = 4) -> list[Quarter]:
    """``count`` quarters ending with ``quarter``, oldest first."""
    quarters = [quarter]
    while len(quarters) < count:
        quarters.insert(0, quarters[0].previous())
    return quarters


def build_all(quarter: Quarter) -> dict[str, SectionData]:
    return {s.key: s.build(quarter) for s in ordered()}


# Registration happens on import; the order on the page is each section's position.
from townsquare.value.sections import board, community, feedback, requests, updates

__all__ = [
    "SECTIONS",
    "Section",
    "board",
    "build_all",
    "community",
    "feedback",
    "ordered",
    "requests",
    "section",
    "updates",
]
