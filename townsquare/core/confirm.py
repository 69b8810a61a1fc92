"""Ask before a destructive or outward action: one confirmation, as a page without JavaScript or a dialog with it.

A view that erases, deletes, cancels, merges or sends calls :func:`confirmation_response` first. A POST
without ``confirmed=yes`` gets the confirmation back: the whole page (``core/confirm.html``) for a plain
form, or only its dialog body (``#dialog``) when ``app.js`` asked for it with ``HX-Request`` to show it in
the page's ``<dialog>``. Either way the confirm button re-posts the same fields with ``confirmed=yes``, so
the view acts once, on the same input, and the text the person confirms is written in one place: the view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Confirmation:
    title: str  # a question: "Delete the destination “DevRel room”?"
    text: str  # what happens, and whether it can be undone
    action: str  # the confirm button's label, a verb: "Delete"
    cancel_url: str
    consequences: Sequence[str] = field(default_factory=tuple)
    danger: bool = True  # destructive (red button) rather than outward (primary)


def confirmation_response(request: HttpRequest, confirmation: Confirmation) -> HttpResponse | None:
    """The confirmation to show, or None when the person has confirmed and the view may act."""
    if request.method == "POST" and request.POST.get(CONFIRMED) == "yes":
        return None
    hidden = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in ("csrfmiddlewaretoken", CONFIRMED)
        for value in values
    ]
    context = {"confirmation": confirmation, "hidden": hidden, "action_url": request.get_full_path()}
    is_fragment = bool(getattr(request, "htmx", False))
    return render(request, "core/confirm.html#dialog" if is_fragment else "core/confirm.html", context)
