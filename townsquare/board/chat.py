"""Board announcements: what a done announcement says, rendered per format.

Escaping and template rendering are the notification layer's (``townsquare.notify.formatting``):
every user or community string is escaped for the message's format, URLs we build are trusted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from townsquare.notify.formatting import (  # noqa: F401  (re-exported for the board's callers and tests)
    ESCAPERS,
    Trusted,
    escape_html,
    escape_markdown,
    escape_text,
    one_line,
    render_message,
)


def render(template_name: str, context: dict[str, Any], fmt: str) -> str:
    return render_message(f"board/messages/{template_name}", context, fmt)


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
