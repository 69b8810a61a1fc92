"""Threads: where a message sits in its thread, as the classifier and assignment read it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from townsquare.sources.models import Message


@dataclass(frozen=True)
class Place:
    reply: bool  # the message does not open its thread
    by_other: bool  # ... and its author is not the opener's (by merged person when both are known)
    opener_id: int | None  # the thread's first message, when it is stored


def places(message_ids: Sequence[int]) -> dict[int, Place]:
    """Each message's place in its thread, in two queries for any number of messages."""
    rows = list(
        Message.objects.filter(pk__in=list(message_ids)).values_list(
            "pk",
            "source_id",
            "external_id",
            "thread_external_id",
            "parent_external_id",
            "author_id",
            "author__member_id",
        )
    )
    wanted = {
        (source, thread or parent)
        for _, source, external_id, thread, parent, _, _ in rows
        if not Message.opens_thread(external_id=external_id, thread_external_id=thread, parent_external_id=parent)
    }
    openers: dict[tuple[int, str], tuple[int, int | None, int | None]] = {}
    for source in {s for s, _ in wanted}:
        ids = [e for s, e in wanted if s == source]
        for pk, external_id, author, member in Message.objects.filter(
            source_id=source, external_id__in=ids
        ).values_list("pk", "external_id", "author_id", "author__member_id"):
            openers[(source, external_id)] = (pk, author, member)
    out: dict[int, Place] = {}
    for pk, source, external_id, thread, parent, author, member in rows:
        if Message.opens_thread(external_id=external_id, thread_external_id=thread, parent_external_id=parent):
            out[pk] = Place(False, False, None)
            continue
        opener = openers.get((source, thread or parent))
        if opener is None:
            out[pk] = Place(True, False, None)
            continue
        opener_pk, opener_author, opener_member = opener
        same = member == opener_member if member is not None and opener_member is not None else author == opener_author
        out[pk] = Place(True, not same, opener_pk)
    return out


def features(message_ids: Sequence[int], known: dict[int, Place]) -> np.ndarray:
    """The classifier's thread features (``classify.THREAD_FEATURES``) of the messages, in their order."""
    rows = [known.get(pk, Place(False, False, None)) for pk in message_ids]
    return np.asarray([[p.reply, p.by_other] for p in rows], dtype=np.float32).reshape(len(rows), 2)
