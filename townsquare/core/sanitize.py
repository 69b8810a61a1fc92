"""The one place untrusted rich text (community HTML or Markdown-rendered HTML) is cleaned.

Called at ingest and again at render (the ``rich_text`` filter), so a change to the
allowlist protects rows stored before the change.

Images are never loaded from a viewer's browser: a remote ``<img>`` is a tracking pixel that tells its
poster who read the message, when and from where. Each becomes a link to the image, named by its alt text
or its host, that the reader may choose to follow (the CSP's ``img-src 'self' data:`` matches).
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import nh3

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "details",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "code": {"class"},
    "pre": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_control(text: str) -> str:
    """Remove C0 control characters (except tab and newlines) that break terminals, XML and email."""
    return _CONTROL.sub("", text)


# What remains after images are turned into links: no <img> at all.
OUTPUT_TAGS = ALLOWED_TAGS - {"img"}
OUTPUT_ATTRIBUTES = {tag: attrs for tag, attrs in ALLOWED_ATTRIBUTES.items() if tag != "img"}


def sanitize_html(html: str) -> str:
    """Return ``html`` reduced to a safe allowlist, images as links; links get rel=noopener noreferrer nofollow."""
    if not html:
        return ""
    cleaned = _clean(strip_control(html), ALLOWED_TAGS, ALLOWED_ATTRIBUTES)
    if "<img" not in cleaned:
        return cleaned
    rewriter = _ImagesAsLinks()
    rewriter.feed(cleaned)
    rewriter.close()
    # Cleaned again without <img>: whatever the rewriter produced is held to the allowlist too.
    return _clean("".join(rewriter.out), OUTPUT_TAGS, OUTPUT_ATTRIBUTES)


def _clean(html: str, tags: set[str], attributes: dict[str, set[str]]) -> str:
    return nh3.clean(
        html,
        tags=tags,
        attributes=attributes,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


class _ImagesAsLinks(HTMLParser):
    """Copies nh3's (well-formed) output, writing each ``<img>`` as a link to its source, or its alt text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # entities pass through exactly as nh3 wrote them
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "img":
            self.out.append(self.get_starttag_text() or "")
            return
        found = {name: value or "" for name, value in attrs}
        src, alt = found.get("src", "").strip(), " ".join(found.get("alt", "").split())
        parts = urlsplit(src)
        if parts.scheme in ("http", "https") and parts.hostname:
            label = alt or f"image from {parts.hostname}"
            title = "A remote image, not loaded: follow the link to see it"
            self.out.append(f'<a href="{escape(src)}" title="{title}">[{escape(label)}]</a>')
        elif alt:
            self.out.append(f"[{escape(alt)}]")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        if tag != "img":
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")
