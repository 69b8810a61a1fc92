"""Every chart Townsquare draws, on matplotlib: SVG inline in pages and PDF, PNG for email.

A chart is a plain description (:class:`Chart`): its title, the categories along the x axis, its series and
a one-sentence summary. Drawing is separate, so the same chart renders as SVG for a page, PNG for an email,
and as a table (:meth:`Chart.table`), the text equivalent every chart carries for screen readers and for
anyone who would rather read the figures.

Labels and series names may be community text (a channel's or a package's name): matplotlib writes text
into SVG with XML escaping, and mathtext is switched off so a ``$`` in a name is only a dollar sign.
A missing value (``None``) is a gap, never a zero: lines break there, bars are left out, the table says
"no data".

Drawing costs tens to hundreds of milliseconds a chart, and the figures behind a chart change only when
a recompute or fetch lands, so a chart's SVG is kept in Django's cache under a digest of everything it
draws (the same figures give the same key in every process; new figures, new keys). :func:`warm` fills
a page's charts with one cache read.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

# Figures are made with the object API on the Agg canvas; pyplot (and its GUI backends) is never imported.

# The page's palette (app.css): ink, muted and grid lines, then series colours in order.
INK, MUTED, GRID = "#1d2427", "#5b6669", "#dfe3e0"
PALETTE = ("#2f5d62", "#c0713a", "#3b5ba9", "#8a5a9b", "#2e7d4f", "#9a6a00", "#b3261e", "#5b6669")
FONT = ["DejaVu Sans", "Arial", "Helvetica", "sans-serif"]
NO_DATA = "no data"

Kind = Literal["line", "bar", "stacked", "heatmap"]
# Bump when the drawing changes, so cached SVG of the old look is not served.
STYLE_VERSION = 2
SVG_CACHE_SECONDS = 7 * 24 * 3600
MAX_X_LABELS = 12  # more and they overlap: the axis shows every n-th, the table has them all

# rcParams are process-wide and matplotlib's drawing is not thread-safe: one chart at a time.
_lock = threading.Lock()
_XML_HEAD = re.compile(r"^.*?(?=<svg)", re.DOTALL)
# matplotlib's one stylesheet ("*{stroke-linejoin: round; ...}"): inline in a page it would apply to the
# whole document, so it is dropped and app.css sets the same for svg.chart.
_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.DOTALL)
_ID = re.compile(r'\sid="([^"]+)"')
_REFERENCE = re.compile(r"#([\w.-]+)")
_SIZE = re.compile(r'(<svg[^>]*?)\s(width|height)="[^"]*"')


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Table:
    """The chart's figures as rows: its text equivalent (and what a CSV export writes)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    """What to draw. ``labels`` run along the x axis (months, weeks, channels); for a heatmap, ``series`` are
    its rows and each value is the cell under the label of its position."""

    title: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    kind: Kind = "line"
    summary: str = ""
    y_label: str = ""
    integer: bool = True
    width: float = 7.2
    height: float = 2.6

    def __post_init__(self) -> None:
        for series in self.series:
            if len(series.values) != len(self.labels):
                raise ValueError(
                    f"series {series.name!r} has {len(series.values)} values for {len(self.labels)} labels"
                )

    @property
    def empty(self) -> bool:
        return not self.labels or all(v is None for s in self.series for v in s.values)

    @cached_property
    def svg(self) -> str:
        """Inline SVG markup, scaled to its container: from the cache, or drawn and cached."""
        from django.core.cache import cache

        svg = cache.get(self.cache_key)
        if svg is None:
            svg = _svg_markup(_render(self, "svg"), self)
            cache.set(self.cache_key, svg, SVG_CACHE_SECONDS)
        return str(svg)

    @cached_property
    def cache_key(self) -> str:
        return f"chart-svg:{STYLE_VERSION}:{_fingerprint(self)}"

    def png(self, *, dpi: int = 144) -> bytes:
        return _render(self, "png", dpi=dpi)

    def table(self) -> Table:
        if self.kind == "heatmap":
            columns = ("", *self.labels)
            rows = tuple((s.name, *(_cell(v, self.integer) for v in s.values)) for s in self.series)
        else:
            columns = ("", *(s.name for s in self.series))
            rows = tuple(
                (label, *(_cell(s.values[i], self.integer) for s in self.series)) for i, label in enumerate(self.labels)
            )
        return Table(columns=columns, rows=rows)


def line(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    summary: str = "",
    y_label: str = "",
    integer: bool = True,
) -> Chart:
    return Chart(title, tuple(labels), tuple(series), "line", summary, y_label, integer)


def bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = False,
    summary: str = "",
    y_label: str = "",
    integer: bool = True,
) -> Chart:
    return Chart(title, tuple(labels), tuple(series), "stacked" if stacked else "bar", summary, y_label, integer)


def heatmap(
    title: str, columns: Sequence[str], rows: Sequence[Series], *, summary: str = "", integer: bool = True
) -> Chart:
    """Rows are series, one value per column; sized so cells stay legible however many there are."""
    size = max(len(columns), len(rows))
    width, height = min(9.0, 2.5 + 0.7 * size), min(8.0, 1.2 + 0.45 * len(rows))
    return Chart(title, tuple(columns), tuple(rows), "heatmap", summary, "", integer, width, height)


def _cell(value: float | None, integer: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_DATA
    return f"{value:,.0f}" if integer else f"{value:,.2f}"


def _rc() -> dict[Any, Any]:  # matplotlib types rcParams' keys as a Literal of every name
    return {
        "text.parse_math": False,  # a "$" in a channel name is a dollar sign, not TeX
        "svg.fonttype": "none",  # real <text>: selectable, scalable, small
        "font.family": "sans-serif",
        "font.sans-serif": FONT,
        "font.size": 9,
        "axes.edgecolor": GRID,
        "axes.labelcolor": MUTED,
        "xtick.color": MUTED,
        "ytick.color": MUTED,
        "text.color": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def _render(chart: Chart, fmt: str, *, dpi: int = 100) -> bytes:
    with _lock, matplotlib.rc_context(_rc()):
        # Ids inside the SVG (clip paths) are salted per chart so two charts on one page never share one.
        matplotlib.rcParams["svg.hashsalt"] = _fingerprint(chart)
        fig = Figure(figsize=(chart.width, chart.height), layout="constrained")
        ax = fig.add_subplot()
        if chart.kind == "heatmap":
            _draw_heatmap(fig, ax, chart)
        else:
            _draw_xy(fig, ax, chart)
        buffer = io.BytesIO()
        # Transparent in pages (the panel shows through); white in email, where clients may be dark.
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_metadata(fmt), transparent=fmt == "svg")
    return buffer.getvalue()


def _metadata(fmt: str) -> dict[str, str | None]:
    # No creation date or tool banner: the same chart gives the same bytes (snapshots, tests, caches).
    if fmt == "svg":
        return {"Date": None, "Creator": None, "Format": None, "Type": None}
    return {"Software": None}


def warm(items: Iterable[Chart]) -> None:
    """Read every chart's SVG from the cache in one round trip; the missing ones draw when first shown."""
    from django.core.cache import cache

    items = [c for c in items if not c.empty]
    found = cache.get_many([c.cache_key for c in items])
    for c in items:
        if c.cache_key in found:
            c.__dict__["svg"] = str(found[c.cache_key])  # the cached_property's own slot


def _fingerprint(chart: Chart) -> str:
    """A digest of everything drawn: the cache key, and the salt of the SVG's ids."""
    parts = (chart.title, chart.labels, [(s.name, tuple(s.values)) for s in chart.series], chart.kind, chart.summary,
             chart.y_label, chart.integer, chart.width, chart.height)  # fmt: skip
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _draw_xy(fig: Figure, ax: Axes, chart: Chart) -> None:
    positions = list(range(len(chart.labels)))
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    count = max(1, len(chart.series))
    bottoms = [0.0] * len(positions)
    for index, series in enumerate(chart.series):
        colour = PALETTE[index % len(PALETTE)]
        values = [math.nan if v is None else float(v) for v in series.values]
        if chart.kind == "line":
            ax.plot(positions, values, color=colour, linewidth=2, marker="o", markersize=3, label=series.name)
        elif chart.kind == "stacked":
            kept = [(p, v, b) for p, v, b in zip(positions, values, bottoms, strict=True) if not math.isnan(v)]
            ax.bar([k[0] for k in kept], [k[1] for k in kept], bottom=[k[2] for k in kept], color=colour,
                   width=0.7, label=series.name)  # fmt: skip
            bottoms = [b + (0.0 if math.isnan(v) else v) for v, b in zip(values, bottoms, strict=True)]
        else:
            width = 0.8 / count
            offset = (index - (count - 1) / 2) * width
            shown = [(p + offset, v) for p, v in zip(positions, values, strict=True) if not math.isnan(v)]
            ax.bar([k[0] for k in shown], [k[1] for k in shown], width=width, color=colour, label=series.name)
    ax.set_xticks(positions, chart.labels)
    step = math.ceil(len(positions) / MAX_X_LABELS)
    if step > 1:  # keep the last label (the current month) and every step-th one before it
        last = len(positions) - 1
        for i, tick in enumerate(ax.get_xticklabels()):
            tick.set_visible((last - i) % step == 0)
    if chart.kind != "line" and max((len(label) for label in chart.labels), default=0) * len(chart.labels) > 60:
        # long category names (channels, packages) would run into each other
        ax.tick_params(axis="x", labelrotation=30)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    if chart.integer:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    if chart.y_label:
        ax.set_ylabel(chart.y_label)
    ax.tick_params(length=0)
    if len(chart.series) > 1:
        fig.legend(frameon=False, loc="outside upper left", ncols=_legend_columns(chart), fontsize=8)


def _legend_columns(chart: Chart) -> int:
    """As many entries a row as fit the width (about 11 characters an inch at the legend's size)."""
    room = chart.width * 11
    widest = max(len(s.name) for s in chart.series) + 4
    return max(1, min(len(chart.series), int(room // widest)))


def _draw_heatmap(fig: Figure, ax: Axes, chart: Chart) -> None:
    matrix = [[math.nan if v is None else float(v) for v in s.values] for s in chart.series]
    finite = [v for row in matrix for v in row if not math.isnan(v)]
    top = max(finite) if finite else 1.0
    image = ax.imshow(matrix, cmap="BuGn", vmin=0, vmax=top or 1.0, aspect="auto")
    ax.set_xticks(range(len(chart.labels)), chart.labels, rotation=30, ha="right")
    ax.set_yticks(range(len(chart.series)), [s.name for s in chart.series])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for r, row in enumerate(matrix):
        for c, value in enumerate(row):
            if not math.isnan(value):
                dark = value > top * 0.6
                ax.text(c, r, _cell(value, chart.integer), ha="center", va="center", fontsize=8,
                        color="#ffffff" if dark else INK)  # fmt: skip
    fig.colorbar(image, ax=ax, shrink=0.8).outline.set_visible(False)


def _svg_markup(data: bytes, chart: Chart) -> str:
    """matplotlib's SVG document as an element for a page: no XML prologue, scaled by its viewBox, labelled."""
    from django.utils.html import escape

    text = _STYLE.sub("", _XML_HEAD.sub("", data.decode(), count=1))
    # matplotlib names every group "figure_1", "line2d_3", ...: the same in every chart, so duplicate ids in
    # a page. Only ids something points at (clip paths, markers; salted per chart) are kept.
    referenced = set(_REFERENCE.findall(text))
    text = _ID.sub(lambda m: m.group(0) if m.group(1) in referenced else "", text)
    while _SIZE.search(text):
        text = _SIZE.sub(r"\1", text, count=1)
    label = escape(chart.title + (f": {chart.summary}" if chart.summary else ""))
    return text.replace("<svg", f'<svg width="100%" role="img" aria-label="{label}" class="chart"', 1)
