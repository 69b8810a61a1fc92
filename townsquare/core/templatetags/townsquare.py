from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from townsquare.core.privacy import person_label
from townsquare.core.sanitize import sanitize_html

register = template.Library()


@register.filter(is_safe=False)
def rich_text(value: str | None) -> SafeString:
    """Render untrusted community HTML: sanitised here at render time, whatever was stored."""
    # mark_safe is sound only because nh3 has just reduced the HTML to the allowlist.
    return mark_safe(sanitize_html(value or ""))


@register.filter
def role_label(value: str) -> str:
    from townsquare.core.roles import Role

    try:
        return Role(value).label
    except ValueError:
        return value


@register.filter
def person(value: object, show_addresses: bool = False) -> str:
    """``{{ message.author|person:is_devrel }}``: email addresses for DevRel only, a display name for the rest."""
    return person_label(value, show_addresses=bool(show_addresses))
