"""Who may see community members' email addresses: DevRel only. Everyone else sees a display name, or
"a community member" when every name there is looks like an address (mailing lists often give nothing else)."""

from __future__ import annotations

import re

COMMUNITY_MEMBER = "a community member"
_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+")


def has_address(text: str) -> bool:
    return bool(_ADDRESS.search(text or ""))


def public_name(*candidates: str | None) -> str:
    """The first candidate that is neither empty nor holds an email address; else "a community member"."""
    for name in candidates:
        name = (name or "").strip()
        if name and not has_address(name):
            return name
    return COMMUNITY_MEMBER


def person_label(value: object, *, show_addresses: bool) -> str:
    """How a person (an identity, a member, or a name as stored in a report snapshot) is shown to a viewer."""
    if value is None or value == "":
        return ""
    if show_addresses:
        return str(value)
    if hasattr(value, "display_name"):
        return public_name(getattr(value, "display_name", ""), getattr(value, "handle", ""))
    return public_name(str(value))
