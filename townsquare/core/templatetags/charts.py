"""``{% chart c %}``: a chart from core.charts as a figure with its SVG, summary and table equivalent."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from townsquare.core.charts import Chart

register = template.Library()


@register.inclusion_tag("core/chart.html")
def chart(chart: Chart, *, table: bool = True) -> dict[str, Any]:
    # matplotlib wrote the SVG from our figures and escaped every label it drew (tested with hostile
    # names in core/tests/test_charts.py); nothing in it comes from a template variable unescaped.
    svg: SafeString = mark_safe(chart.svg)
    return {"chart": chart, "svg": svg, "table": chart.table() if table else None}
