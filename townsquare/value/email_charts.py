"""The value report's key charts for the sponsor's email: PNG images shown inline (email clients drop SVG).

One chart per section that has figures, in the report's order, at most ``LIMIT``: each becomes an image
attached to the email (``cid:<filename>``, multipart/related) with its takeaway as the text beside it, so a
reader whose client blocks images still gets the point. The page and PDF keep drawing SVG.
"""

from __future__ import annotations

from dataclasses import dataclass

from townsquare.core import charts
from townsquare.notify.formatting import Trusted
from townsquare.notify.services import Attachment
from townsquare.value.models import QuarterReport
from townsquare.value.presenting import section_views

LIMIT = 4
DPI = 110  # about 800 px wide: sharp at the email's 600 px on a retina screen, tens of kB each


@dataclass(frozen=True)
class EmailChart:
    section: str
    filename: str
    chart: charts.Chart

    @property
    def context(self) -> dict[str, object]:
        return {"src": Trusted(f"cid:{self.filename}"), "title": self.chart.title, "summary": self.chart.summary}


def key_charts(report: QuarterReport, *, limit: int = LIMIT) -> list[EmailChart]:
    chosen: list[EmailChart] = []
    for view in section_views(report):
        drawable = [chart for chart, _ in view.charts if not chart.empty]
        if view.empty or not drawable:
            continue
        chosen.append(EmailChart(view.key, f"chart-{len(chosen) + 1}-{view.key}.png", drawable[0]))
        if len(chosen) == limit:
            break
    return chosen


def by_section(report: QuarterReport) -> dict[str, list[dict[str, object]]]:
    """Each section's email charts, for the templates."""
    grouped: dict[str, list[dict[str, object]]] = {}
    for item in key_charts(report):
        grouped.setdefault(item.section, []).append(item.context)
    return grouped


def attachments(report: QuarterReport) -> list[Attachment]:
    return [
        Attachment(filename=item.filename, mimetype="image/png", content=item.chart.png(dpi=DPI))
        for item in key_charts(report)
    ]
