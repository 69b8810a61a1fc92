"""``{{ chart|print_image }}``: a chart as an SVG image for the PDF and the deck, still vector, still text.

WeasyPrint runs the page's CSS cascade over every element of an inline ``<svg>`` (hundreds of paths and
ticks per chart), which costs a third of the PDF's time and logs a warning for each SVG presentation
property it does not know. As an image, the same SVG is drawn by WeasyPrint's SVG renderer alone: same
look, same selectable text, no cascade. Only ``data:`` URLs are involved, so nothing is fetched.
"""

from __future__ import annotations

import base64
import re

from django import template

from townsquare.core.charts import Chart

register = template.Library()

_VIEW_BOX = re.compile(r'viewBox="0 0 ([\d.]+) ([\d.]+)"')


@register.filter
def print_image(chart: Chart) -> str:
    """A ``data:`` URL of the chart's SVG as a standalone document, sized in points like matplotlib drew it."""
    svg = chart.svg
    box = _VIEW_BOX.search(svg)
    size = f'width="{box.group(1)}pt" height="{box.group(2)}pt"' if box else ""
    svg = svg.replace('width="100%"', size, 1)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
