"""The updates app's models, one module per part (newsletter; digests live beside it)."""

from __future__ import annotations

from townsquare.updates.models.newsletter import (
    DroppedLink,
    Newsletter,
    NewsletterSection,
    ReviewComment,
    SectionRevision,
)

__all__ = ["DroppedLink", "Newsletter", "NewsletterSection", "ReviewComment", "SectionRevision"]
