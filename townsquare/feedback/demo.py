"""Demo: run the demo workspace's messages through the feedback pipeline (idempotent)."""

from __future__ import annotations

from townsquare.feedback import services
from townsquare.feedback.models import Theme


def feedback_demo_load() -> dict[str, int]:
    processed = services.messages_process_pending()
    proposals = services.themes_recluster(days=3650).proposals if processed else 0
    live = Theme.objects.exclude(status__in=[Theme.Status.MERGED, Theme.Status.ARCHIVED])
    return {"messages processed": processed, "themes": live.count(), "proposals": proposals}
