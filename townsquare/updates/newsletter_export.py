"""An issue as HTML and as Markdown for the company's mailing tool.

Both go through notify's one escaper per format (``render_message``): headings and text are escaped as
text, never as markup, so a hostile link title cannot inject HTML, Markdown links, images or raw HTML.
Only http(s) URLs are linked, and each is escaped for its format before it is marked trusted.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from django.utils.html import escape as html_escape

from townsquare.notify.formatting import Trusted, render_message
from townsquare.updates.models import Newsletter, NewsletterSection

TEMPLATE = "updates/newsletter/export"
# Characters that would end or break a Markdown link destination; the rest of the URL is left as typed.
_MD_URL_UNSAFE = re.compile(r"[\s()<>\[\]\\`\"']")


def _linkable(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def markdown_url(url: str) -> str:
    return _MD_URL_UNSAFE.sub(lambda m: quote(m.group(0), safe=""), url)


def _context(newsletter: Newsletter, sections: list[NewsletterSection], fmt: str) -> dict[str, Any]:
    def url_for(url: str) -> Trusted | None:
        if not url or not _linkable(url):
            return None
        return Trusted(markdown_url(url) if fmt == "markdown" else html_escape(url))

    return {
        "title": newsletter.title,
        "sections": [
            {
                "heading": section.heading,
                "url": url_for(section.url),
                "paragraphs": [p.strip() for p in re.split(r"\n\s*\n", section.body) if p.strip()],
            }
            for section in sections
        ],
    }


def newsletter_markdown(newsletter: Newsletter, sections: list[NewsletterSection]) -> str:
    return render_message(TEMPLATE, _context(newsletter, sections, "markdown"), "markdown")


def newsletter_html(newsletter: Newsletter, sections: list[NewsletterSection]) -> str:
    return render_message(TEMPLATE, _context(newsletter, sections, "html"), "html")
