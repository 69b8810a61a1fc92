"""The one chart module: real matplotlib output, escaped labels, gaps that stay gaps."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
from django.template import Context, Template

from townsquare.core import charts

HOSTILE = '<script>alert(1)</script> "quoted" $x^2$ & co'


def months() -> list[str]:
    return ["Jan", "Feb", "Mar", "Apr"]


def test_svg_is_one_labelled_element_that_scales_with_the_page() -> None:
    chart = charts.line("Contributors", months(), [charts.Series("Community", [3, 4, 5, 6])], summary="6 in April")
    svg = chart.svg
    root = ElementTree.fromstring(svg)  # well-formed XML, no prologue
    assert root.tag.endswith("svg")
    assert svg.startswith("<svg ")
    assert root.get("width") == "100%" and root.get("height") is None and root.get("viewBox")
    assert root.get("role") == "img" and root.get("aria-label") == "Contributors: 6 in April"
    assert "<style" not in svg  # its global '*' stylesheet would leak into the page
    assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org/", "")


def test_hostile_names_are_escaped_text_and_never_mathtext() -> None:
    chart = charts.bars(HOSTILE, months(), [charts.Series(HOSTILE, [1, 2, 3, 4]), charts.Series("b", [1, 1, 1, 1])])
    svg = chart.svg
    assert "<script" not in svg
    texts = ["".join(node.itertext()) for node in ElementTree.fromstring(svg).iter() if node.tag.endswith("text")]
    assert HOSTILE in texts  # drawn verbatim as text: the $...$ was not typeset as math
    assert ElementTree.fromstring(svg).get("aria-label") == HOSTILE
    html = Template("{% load charts %}{% chart c %}").render(Context({"c": chart}))
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the table equivalent, autoescaped


def test_a_missing_value_is_a_gap_in_the_line_and_in_the_table() -> None:
    whole = charts.line("Messages", months(), [charts.Series("All", [5, 6, 7, 8])])
    gap = charts.line("Messages", months(), [charts.Series("All", [5, 6, None, 8])])
    moves = lambda svg: len(re.findall(r"\bM -?\d", svg))  # a path's segments start with a move
    assert moves(gap.svg) > moves(whole.svg)  # the line is broken, not drawn through zero
    assert gap.table().rows[2] == ("Mar", charts.NO_DATA)
    assert whole.table().columns == ("", "All")
    assert not gap.empty
    assert charts.line("Nothing", months(), [charts.Series("All", [None] * 4)]).empty


def test_png_for_email_and_the_same_bytes_every_time() -> None:
    chart = charts.bars("Downloads", months(), [charts.Series("PyPI", [10, None, 30, 40])], stacked=True)
    png = chart.png()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 2000
    again = charts.bars("Downloads", months(), [charts.Series("PyPI", [10, None, 30, 40])], stacked=True)
    assert again.svg == chart.svg and again.png() == png


def test_two_charts_on_one_page_never_share_an_id() -> None:
    a = charts.line("A", months(), [charts.Series("x", [1, 2, 3, 4])])
    b = charts.line("B", months(), [charts.Series("x", [1, 2, 3, 5])])
    ids_a, ids_b = (re.findall(r'\bid="([^"]+)"', chart.svg) for chart in (a, b))
    assert ids_a and ids_b  # the clip path and the markers the lines point at
    assert not set(ids_a) & set(ids_b)
    assert all(f"#{i}" in a.svg for i in ids_a)  # nothing left that nothing refers to


def test_heatmap_rows_are_series_and_the_table_reads_across() -> None:
    chart = charts.heatmap(
        "Overlap", ["Slack", "Discord"], [charts.Series("Slack", [40, 12]), charts.Series("Discord", [12, None])]
    )
    assert chart.table().columns == ("", "Slack", "Discord")
    assert chart.table().rows == (("Slack", "40", "12"), ("Discord", "12", charts.NO_DATA))
    assert ">40<" in chart.svg


def test_series_must_match_the_labels() -> None:
    with pytest.raises(ValueError, match="has 2 values for 4 labels"):
        charts.line("Bad", months(), [charts.Series("x", [1, 2])])


def test_a_long_axis_shows_about_a_dozen_labels_ending_with_the_last() -> None:
    labels = [f"2024-{m:02d}" for m in range(1, 13)] + [f"2025-{m:02d}" for m in range(1, 13)]
    chart = charts.line("Messages", labels, [charts.Series("All", list(range(24)))])
    shown = [
        "".join(node.itertext())
        for node in ElementTree.fromstring(chart.svg).iter()
        if node.tag.endswith("text") and "".join(node.itertext()).startswith("202")
    ]
    assert 8 <= len(shown) <= charts.MAX_X_LABELS and shown[-1] == "2025-12"
    assert len(chart.table().rows) == 24  # the table keeps every month


def test_a_drawing_is_cached_under_what_it_draws() -> None:
    from django.core.cache import cache

    chart = charts.bars("Cached", ["a", "b"], [charts.Series("x", [1, 2])])
    cache.delete(chart.cache_key)
    svg = chart.svg
    assert cache.get(chart.cache_key) == svg
    again = charts.bars("Cached", ["a", "b"], [charts.Series("x", [1, 2])])
    charts.warm([again])
    assert again.__dict__["svg"] == svg  # filled from the cache, not drawn
    other = charts.bars("Cached", ["a", "b"], [charts.Series("x", [1, 3])])
    assert other.cache_key != chart.cache_key
