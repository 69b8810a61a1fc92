"""Demo: run the demo workspace's messages through the feedback pipeline (idempotent)."""

from __future__ import annotations

from townsquare.feedback import services
from townsquare.feedback.models import Theme


def feedback_demo_load() -> dict[str, int]:
    processed = 0
    previous: list[int] | None = None
    while (ids := services.messages_pending(limit=2000)) and ids != previous:
        services.messages_process(message_ids=ids)
        processed, previous = processed + len(ids), ids
    proposals = services.themes_recluster(days=3650).proposals if processed else 0
    live = Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
    return {"messages processed": processed, "themes": live.count(), "proposals": proposals}
