"""What feedback holds about an erased member: theme placements, labels and vectors of their messages.

people's ``member_erase`` hook runs newest app first, so this runs before sources deletes the messages.
Their rows would go with the messages (cascades), but two derived copies would not: the themes'
stored counts and title (recomputed here, without the erased messages) and the file vector index
(cleaned once the erasure commits; ``embeddings_reconcile`` catches a process that dies first).
"""

from __future__ import annotations

from functools import partial

from django.db import transaction

from townsquare.feedback.models import Classification, Embedding, ThemeMessage
from townsquare.feedback.services import theme_refresh
from townsquare.feedback.vectors import get_index
from townsquare.people.models import Member
from townsquare.sources.models import Message


def messages_written_by(identity_ids: list[int]) -> list[tuple[int, str]]:
    """(id, url) of the messages these identities wrote: for the apps above feedback, which may not read sources."""
    return list(Message.objects.filter(author_id__in=identity_ids).values_list("pk", "url"))


def member_feedback_erase(*, member: Member, identity_ids: list[int]) -> dict[str, int]:
    message_ids = [pk for pk, _ in messages_written_by(identity_ids)]
    placements = ThemeMessage.objects.filter(message_id__in=message_ids)
    theme_ids = sorted(set(placements.values_list("theme_id", flat=True)))
    placed = placements.count()
    placements.delete()
    vectors = list(Embedding.objects.filter(message_id__in=message_ids).values_list("pk", flat=True))
    Embedding.objects.filter(pk__in=vectors).delete()
    labels, _ = Classification.objects.filter(message_id__in=message_ids).delete()
    if theme_ids:
        theme_refresh(theme_ids=theme_ids)  # counts, people, customers, score and machine titles without them
    if vectors:
        transaction.on_commit(partial(_unindex, vectors))
    counts = {"theme placements": placed, "vectors": len(vectors), "feedback labels": labels}
    return {what: count for what, count in counts.items() if count}


def _unindex(keys: list[int]) -> None:
    get_index().remove(keys)
