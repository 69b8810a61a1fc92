from __future__ import annotations

from townsquare.updates.models.digests import Audience, Part, Question, Update, UpdateItem

__all__ = ["Audience", "Part", "Question", "Update", "UpdateItem"]
