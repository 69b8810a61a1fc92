"""The updates app's models, one module per part: audience digests and the newsletter."""

from __future__ import annotations

from townsquare.updates.models.digests import Audience, Part, Question, Update, UpdateItem
from townsquare.updates.models.newsletter import (
    DroppedLink,
    Newsletter,
    NewsletterSection,
    ReviewComment,
    SectionRevision,
)

__all__ = [
    "Audience",
    "DroppedLink",
    "Newsletter",
    "NewsletterSection",
    "Part",
    "Question",
    "ReviewComment",
    "SectionRevision",
    "Update",
    "UpdateItem",
]
