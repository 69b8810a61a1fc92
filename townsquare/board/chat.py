"""Chat and email text for board announcements: templates plus one escaper per format.

Every value that reaches a message template has gone through the escaper of that
message's format, except values wrapped in :class:`Trusted` (URLs we build). User and
community text (titles, names, contributions, notes) therefore can never inject
markup, links or mass mentions.

Formats:
- ``markdown``: CommonMark, what we hand to Apprise for chat destinations. Apprise turns
  it into each service's dialect (Slack mrkdwn: ``\\<`` becomes ``&lt;``, ``&`` becomes
  ``&amp;``; Mattermost, Matrix, Discord, Teams, Zulip read CommonMark).
- ``text``: plain text for webhooks, logs and the CLI.
- ``html``: HTML for email bodies and previews.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.template.loader import get_template
from django.utils.html import escape as html_escape

# "@channel", "@here", "@everyone", "@all" and every "@name" mention at a word start. A word
# joiner after the "@" keeps the text readable but stops chat services from parsing a mention.
_MENTION = re.compile(r"(?<![\w@])@(?=[\w.-])")
WORD_JOINER = "\u2060"
# C0/C1 control characters other than newline and tab: they can break payloads or terminals.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# CommonMark punctuation that opens or closes markup anywhere in a line: emphasis, code, links
# and images ("(", ")" and "!" are inert once the brackets are escaped), autolinks and raw HTML.
_MARKDOWN_INLINE = re.compile(r"([\\`*_\[\]<>~])")
# Line starts that make lists, headings, quotes, rules or setext headings.
_MARKDOWN_LINE_START = re.compile(r"^([ \t]*)([-+=#]|\d+[.)])", re.MULTILINE)


class Trusted(str):
    """A value we built ourselves (an absolute URL to our own page): inserted unescaped."""


def neutralise_mentions(text: str) -> str:
    return _MENTION.sub("@" + WORD_JOINER, text)


def _clean(text: str) -> str:
    return _CONTROL.sub("", str(text))


def escape_text(text: str) -> str:
    """Plain text: no markup to escape, but no control characters and no live mentions."""
    return neutralise_mentions(_clean(text))


def escape_markdown(text: str) -> str:
    """CommonMark: backslash-escape punctuation so the text shows literally, and neutralise mentions."""
    text = neutralise_mentions(_clean(text))
    text = _MARKDOWN_INLINE.sub(r"\\\1", text)
    return _MARKDOWN_LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    return f"{indent}{marker[:-1]}\\{marker[-1]}"  # "1." -> "1\.", "-" -> "\-"


def escape_html(text: str) -> str:
    """HTML: entity-escape ``& < > " '`` and neutralise mentions."""
    return html_escape(neutralise_mentions(_clean(text)))


def one_line(text: str) -> str:
    """Titles and names stay on one line in chat."""
    return " ".join(str(text).split())


ESCAPERS: dict[str, Callable[[str], str]] = {"markdown": escape_markdown, "text": escape_text, "html": escape_html}
EXTENSIONS = {"markdown": "md", "text": "txt", "html": "html"}


def escape_context(value: Any, escaper: Callable[[str], str]) -> Any:
    if isinstance(value, Trusted):
        return str(value)
    if isinstance(value, str):
        return escaper(value)
    if isinstance(value, Mapping):
        return {key: escape_context(item, escaper) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [escape_context(item, escaper) for item in value]
    return value  # numbers, booleans, None


def render(template_name: str, context: Mapping[str, Any], fmt: str) -> str:
    """Render ``board/messages/<name>.<ext>`` with every string in ``context`` escaped for ``fmt``.

    The templates turn autoescape off: escaping has already happened, once, here.
    """
    escaper = ESCAPERS[fmt]
    text = get_template(f"board/messages/{template_name}.{EXTENSIONS[fmt]}").render(escape_context(context, escaper))
    # Templates are written for readability; collapse the blank lines their tags leave behind.
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


@dataclass(frozen=True)
class Thanks:
    name: str
    team: str
    contribution: str


@dataclass(frozen=True)
class DoneMessage:
    """What a done announcement says; rendered per format by :func:`render_done`."""

    finisher: str
    task_title: str
    link: str
    reopened: bool = False
    headline: str = ""
    note: str = ""
    thanks: tuple[Thanks, ...] = field(default_factory=tuple)

    @property
    def default_headline(self) -> str:
        again = " again" if self.reopened else ""
        return f"{one_line(self.finisher)} finished “{one_line(self.task_title)}”{again}"

    def context(self) -> dict[str, Any]:
        return {
            "finisher": one_line(self.finisher),
            "task_title": one_line(self.task_title),
            "link": Trusted(self.link),
            "reopened": self.reopened,
            "headline": one_line(self.headline or self.default_headline),
            "note": self.note.strip(),
            "thanks": [
                {"name": one_line(t.name), "team": one_line(t.team), "contribution": one_line(t.contribution)}
                for t in self.thanks
            ],
        }


def render_done(message: DoneMessage, fmt: str = "markdown") -> tuple[str, str]:
    """Return (title, body) for a done announcement in ``fmt``."""
    context = message.context()
    title = ESCAPERS[fmt](context["headline"])
    return title, render("done", context, fmt)
