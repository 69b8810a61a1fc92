"""Named hooks: how a lower app reaches code of a higher one without importing it.

DESIGN.md's graph lets imports point down only. Where a lower app must make higher apps act (intake
accepts a request and the board makes a task; people erases a member and every app drops its rows),
the lower app calls a hook defined here and each higher app registers a handler from its
``AppConfig.ready()``. A hook is a plain list of callables: no signals, so a handler runs in the
caller's transaction and its exception reaches the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])


class Hook(Generic[R]):
    """One named extension point; handlers are called with keyword arguments only."""

    def __init__(self, name: str, *, newest_first: bool = False) -> None:
        self.name = name
        # Apps register in INSTALLED_APPS order, lower apps first; a hook whose handlers depend on the
        # rows of lower apps (erasure: feedback's vectors hang off sources' messages) runs them newest first.
        self.newest_first = newest_first
        self._handlers: dict[str, Callable[..., R]] = {}

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {', '.join(self._handlers) or 'no handlers'}>"

    def register(self, handler: F, *, key: str | None = None) -> F:
        """Add a handler (usable as a decorator). Keyed by its dotted name, so registering again replaces it:
        ``ready()`` can run more than once (tests that reload apps) without a handler running twice."""
        self._handlers[key or f"{handler.__module__}.{handler.__qualname__}"] = handler
        return handler

    def unregister(self, key: str) -> None:
        self._handlers.pop(key, None)

    def handlers(self) -> list[tuple[str, Callable[..., R]]]:
        items = list(self._handlers.items())
        return items[::-1] if self.newest_first else items

    def call(self, **kwargs: Any) -> list[tuple[str, R]]:
        """Run every handler with the same keyword arguments; their results by handler key, in call order."""
        return [(key, handler(**kwargs)) for key, handler in self.handlers()]


# intake -> board. Called inside request_accept's transaction with (*, request, by) once the request is
# accepted; the board makes its task there, so the acceptance and the task commit or roll back together.
request_accepted: Hook[Any] = Hook("request accepted")

# intake -> board. Called inside the transaction of request_start, request_mark_done and request_cancel with
# (*, request, from_status, by) once the request's new status is saved; the board moves the request's card to
# match, so the request and its card never disagree (the board calls back into intake, which is idempotent).
request_status_changed: Hook[Any] = Hook("request status changed")

# people -> every app holding a person's data. Called inside member_erase's transaction with
# (*, member, identity_ids) before the identities are deleted; each handler deletes its app's rows
# for them and returns what it removed, e.g. {"messages": 12}. The counts go on the ErasureRecord.
member_erase: Hook[dict[str, int]] = Hook("member erase", newest_first=True)

# people -> every app holding a person's data. Called by member_export with (*, member); each handler
# returns sections of the export, e.g. {"messages": [...]}, merged into the exported document.
member_export: Hook[dict[str, Any]] = Hook("member export")

# people -> sources. Called with (*, member_ids) for a page of the directory; returns {member id: number
# of messages}. One query per page whoever answers, so the directory stays free of N+1 queries.
member_message_counts: Hook[dict[int, int]] = Hook("member message counts")

# people -> sources. Called with (*, member_ids, since) for a page of the people directory; returns
# {member_id: {week's Monday: messages}} for the weeks from ``since``, in one grouped query.
member_weekly_activity: Hook[dict[int, dict[Any, int]]] = Hook("member weekly activity")

# people -> sources. Called with (*, member_ids) after identities moved between members (a split, an undone
# merge), in the same transaction; sources sets those members' first_seen / last_seen from their messages.
members_identities_moved: Hook[None] = Hook("members identities moved")

# feedback -> reports. Called inside theme_route's transaction with (*, theme, previous, by) once the theme's
# department changed (``previous``: the department it had); reports puts it in that department's current draft
# and takes it out of the previous department's drafts, so the weekly report follows curation the same day.
theme_routed: Hook[Any] = Hook("theme routed")

# updates -> intake. Called with (*, team, requester, title, details, by) when DevRel turns a stakeholder's question
# on an update into a request; intake files it for the asker's team (a Q&A session, current quarter)
# and returns the Request. updates sits beside intake in the graph, not above it, so it cannot import it.
request_from_question: Hook[Any] = Hook("request from question")

# notify -> board (and any app that holds messages back for want of a destination). Called inside
# destination_save's transaction with (*, destination) once a destination is saved; a handler may queue
# what it held for that destination's purposes and returns how many messages it queued.
destination_saved: Hook[int] = Hook("destination saved")

# sources -> feedback. Called with (*, source_id) by a finished sync run's page; returns {"pending": how many of
# the source's messages wait to be processed into themes, "next_at": when the next sweep is due (None: unknown)}.
messages_processing_status: Hook[dict[str, Any]] = Hook("messages processing status")

# sources -> feedback. Called with () by the run page's "Process now" button; queues a sweep of pending messages
# (after the request's transaction commits) and returns True once queued.
messages_process_requested: Hook[bool] = Hook("messages process requested")
