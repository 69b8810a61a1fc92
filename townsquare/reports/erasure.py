"""What reports holds about an erased member: the quotes of their messages in report snapshots.

Snapshots are immutable for curators, but an erasure request overrides that: every revision, published
or draft, loses the member's quotes in place (so the page, the API, the feed and the PDF, which is drawn
on request, no longer show them). Counts stay: they name nobody.
"""

from __future__ import annotations

from townsquare.feedback.erasure import messages_written_by
from townsquare.people.models import Member
from townsquare.reports.models import ReportItem


def member_report_quotes_erase(*, member: Member, identity_ids: list[int]) -> dict[str, int]:
    message_ids = set(messages_written_by(identity_ids))
    if not message_ids:
        return {}
    removed = 0
    reports: set[int] = set()
    for item in ReportItem.objects.exclude(quotes=[]).only("pk", "report_id", "quotes").iterator(chunk_size=500):
        kept = [q for q in item.quotes if not (isinstance(q, dict) and q.get("message_id") in message_ids)]
        if len(kept) != len(item.quotes):
            removed += len(item.quotes) - len(kept)
            reports.add(item.report_id)
            ReportItem.objects.filter(pk=item.pk).update(quotes=kept)
    counts = {"report quotes": removed, "reports redacted": len(reports)}
    return {what: count for what, count in counts.items() if count}
