"""What sources holds about one community member: kept current at ingest, exported and erased on request.

people sits below sources and may not read messages; the GDPR services there reach these through
``core.hooks`` (registered in ``SourcesConfig.ready()``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, Max, Min, OuterRef, Subquery

from townsquare.core.sql import chunked
from townsquare.people.models import Member
from townsquare.sources.models import Message


def members_activity_refresh(*, member_ids: Iterable[int]) -> None:
    """Set first_seen / last_seen from the members' messages (call after a sync with the touched members)."""
    ids = sorted(set(member_ids))
    # One UPDATE per chunk with correlated aggregates: the database does the work, no CASE WHEN per row.
    span = Message.objects.filter(author__member_id=OuterRef("pk")).values("author__member_id")
    for chunk in chunked(ids):
        Member.objects.filter(Exists(span), pk__in=chunk).update(
            first_seen=Subquery(span.annotate(first=Min("created_at")).values("first")[:1]),
            last_seen=Subquery(span.annotate(last=Max("created_at")).values("last")[:1]),
        )


def member_messages_erase(*, member: Member, identity_ids: list[int]) -> dict[str, int]:
    """people's member_erase hook: delete every message the member's identities wrote."""
    messages = Message.objects.filter(author_id__in=identity_ids)
    count = messages.count()
    messages.delete()
    return {"messages": count}


def member_messages_export(*, member: Member) -> dict[str, Any]:
    """people's member_export hook: the member's messages, oldest first, as JSON-ready data."""
    messages = (
        Message.objects.filter(author__member=member)
        .select_related("source", "channel", "author")
        .order_by("created_at", "pk")
    )
    return {
        "messages": [
            {
                "id": m.pk,
                "source": m.source.name,
                "channel": m.channel.name if m.channel is not None else None,  # select_related: no query
                "identity": m.author_id,
                "kind": m.kind,
                "created_at": m.created_at.isoformat(),
                "updated_at": m.updated_at.isoformat() if m.updated_at else None,
                "title": m.title,
                "body": m.body,
                "url": m.url,
            }
            for m in messages.iterator(chunk_size=2000)
        ]
    }
