"""The Value pages' drawn parts (charts and their tables), rendered once and kept in the cache.

A Health page shows eleven charts, each with its table equivalent; building, reading and rendering them
was most of the page's server time. They depend only on the snapshot's figures and the months shown, and
a succeeded snapshot is never changed (a recompute writes a new one), so the rendered panels are cached
under the snapshot id, the scope and the months: a new snapshot gives new keys, nothing is invalidated.

What may change under a snapshot stays out of the panels and is read at each view: the unanswered list
(an erased person's titles must leave the page at once), organisation names, the recompute status.

:func:`pages_warm` runs at the end of the recompute task: it draws every chart of each scope's default
view and of the channel map, so the first reader after a recompute does not wait for matplotlib.

The Downloads page's charts and month table (:func:`downloads_panel`) are cached under a digest of every
figure they show, the same way core.charts caches a drawing: a fetch that stores a month, a relabelled
package or a new month of activity changes the digest, so there is nothing to invalidate either.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from townsquare.core import charts as core_charts
from townsquare.core.quarters import quarter_of
from townsquare.metrics import charts
from townsquare.metrics.corpus import month_parse, month_start
from townsquare.metrics.downloads_charts import activity_chart, downloads_chart
from townsquare.metrics.health import chaoss
from townsquare.metrics.models import ChannelMap, HealthFigures, HealthSnapshot
from townsquare.metrics.selectors.downloads import DownloadsOverview
from townsquare.sources.models import Source

logger = logging.getLogger(__name__)

# Every figure links to its definition.
DEFINITIONS = {
    "contributors": chaoss("contributors"),
    "new": chaoss("new-contributors"),
    "inactive": chaoss("inactive-contributors"),
    "ttfr": chaoss("time-to-first-response"),
    "caf": chaoss("contributor-absence-factor"),
    "elephant": chaoss("elephant-factor"),
    "diversity": chaoss("organizational-diversity"),
}
DEFAULT_MONTHS = 24
# The page's sections that come from the snapshot alone, in page order (templates/metrics/_health_*.html).
HEALTH_PANELS = ("people", "responses", "concentration")
# Bump when a panel template changes, so panels rendered by the old one are not served.
PANELS_VERSION = 1
PANELS_SECONDS = 7 * 24 * 3600  # a snapshot is replaced nightly; old keys just expire


def months_window(figures: dict[str, Any], start: int | None, end: int | None) -> tuple[slice, slice]:
    """The month and quarter index ranges a page shows for From/To (month numbers; None = not given)."""
    labels = figures["months"]
    if not labels:
        return slice(0, 0), slice(0, 0)
    if start is None and end is None and len(labels) > DEFAULT_MONTHS:
        # An imported history can span a decade: open on the last two years; From/To reach the rest.
        start = month_parse(labels[-1]) - DEFAULT_MONTHS + 1
    first = month_parse(labels[0])
    lo = 0 if start is None else max(0, start - first)
    hi = len(labels) if end is None else max(0, min(len(labels), end - first + 1))
    months = slice(lo, max(lo, hi))
    shown = labels[months]
    if not shown:
        return months, slice(0, 0)
    quarters = figures["quarters"]
    q_first = quarter_of(month_start(month_parse(shown[0]))).key
    q_last = quarter_of(month_start(month_parse(shown[-1]))).key
    return months, slice(quarters.index(q_first), quarters.index(q_last) + 1)


def retention_rows(figures: dict[str, Any], months: slice) -> list[dict[str, Any]]:
    shown = set(figures["months"][months])
    return [r for r in figures["retention"] if r["month"] in shown]


def _panels_key(snapshot: HealthSnapshot, source_id: int | None, months: slice) -> str:
    # The finish time beside the id: a database made again (a demo reload, a restore) reuses ids, while
    # the cache in the data directory outlives it.
    finished = snapshot.finished_at.timestamp() if snapshot.finished_at else 0
    scope = "all" if source_id is None else source_id
    return (
        f"health-panels:{PANELS_VERSION}:{core_charts.STYLE_VERSION}:{snapshot.pk}:{finished:.6f}:{scope}:"
        f"{months.start}:{months.stop}"
    )


def health_panels(
    *, snapshot: HealthSnapshot, source_id: int | None, figures: dict[str, Any], months: slice, quarters: slice
) -> dict[str, SafeString]:
    """The rendered chart panels of one scope and range: from the cache, or built, rendered and cached."""
    key = _panels_key(snapshot, source_id, months)
    found = cache.get(key)
    if found is not None:
        # Our own templates' output (autoescaped), as rendered below; the cache keeps it as plain text.
        return {name: mark_safe(found[name]) for name in HEALTH_PANELS}
    built = charts.health_charts(figures, months, quarters)
    core_charts.warm(built.values())
    context = {"charts": built, "definitions": DEFINITIONS, "retention": retention_rows(figures, months)}
    panels = {name: render_to_string(f"metrics/_health_{name}.html", context) for name in HEALTH_PANELS}
    cache.set(key, {name: str(html) for name, html in panels.items()}, PANELS_SECONDS)
    return panels


def pages_warm(*, snapshot: HealthSnapshot) -> int:
    """Render each scope's default Health view and draw the channel map's charts; returns the scopes done."""
    started = time.perf_counter()
    scopes = 0
    for source_id, figures in HealthFigures.objects.filter(snapshot=snapshot).values_list("source_id", "data"):
        if not figures or figures.get("empty"):
            continue
        months, quarters = months_window(figures, None, None)
        if figures["months"][months]:
            health_panels(snapshot=snapshot, source_id=source_id, figures=figures, months=months, quarters=quarters)
            scopes += 1
    names = dict(Source.objects.values_list("pk", "name"))
    for data in ChannelMap.objects.filter(snapshot=snapshot).values_list("data", flat=True):
        if data and not data.get("empty"):
            for chart in charts.channel_charts(data, names).values():
                if not chart.empty:
                    _ = chart.svg  # drawn and cached by the property
    logger.info("health snapshot %s: %s scopes drawn in %.1fs", snapshot.pk, scopes, time.perf_counter() - started)
    return scopes


def downloads_panel(overview: DownloadsOverview) -> SafeString:
    """The Downloads page's charts and month-by-month table for these figures, rendered or from the cache."""
    shown = (
        overview.months,
        [(s.package.pk, s.package.display_name, s.figures) for s in overview.series],
        overview.totals,
        overview.activity,
    )
    digest = hashlib.sha256(repr(shown).encode()).hexdigest()[:32]
    key = f"downloads-panel:{PANELS_VERSION}:{core_charts.STYLE_VERSION}:{digest}"
    found = cache.get(key)
    if found is not None:
        return mark_safe(found)  # our own template's autoescaped output, as rendered below
    context = {"overview": overview, "chart": downloads_chart(overview), "activity": activity_chart(overview)}
    html = render_to_string("metrics/_downloads_figures.html", context)
    cache.set(key, str(html), PANELS_SECONDS)
    return html
