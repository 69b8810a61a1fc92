"""What reports holds about an erased member: their quotes and thread titles in report snapshots.

Snapshots are immutable for curators, but an erasure request overrides that: every revision, published
or draft, loses the member's quotes and threads in place (so the page, the API, the feed and the PDF, which is drawn
on request, no longer show them). The email and chat bodies stored in the outbox for those reports,
sent or not, are drawn again from the redacted snapshot. Counts stay: they name nobody.
"""

from __future__ import annotations

from django.urls import reverse

from townsquare.feedback.erasure import messages_written_by
from townsquare.notify.models import Notification
from townsquare.people.models import Member
from townsquare.reports.models import Report, ReportItem
from townsquare.reports.services import absolute, report_chat, report_email, unsubscribe_token


def member_report_quotes_erase(*, member: Member, identity_ids: list[int]) -> dict[str, int]:
    written = messages_written_by(identity_ids)
    message_ids = {pk for pk, _ in written}
    urls = {url for _, url in written if url}
    if not message_ids:
        return {}
    quotes = threads = 0
    reports: set[int] = set()
    rows = ReportItem.objects.only("pk", "report_id", "quotes", "threads").iterator(chunk_size=500)
    for item in rows:
        kept_quotes = [q for q in item.quotes if not (isinstance(q, dict) and q.get("message_id") in message_ids)]
        # A thread is listed with the title and link of its first message in the theme: theirs, when they wrote it.
        kept_threads = [t for t in item.threads if not (isinstance(t, dict) and t.get("url") in urls)]
        if len(kept_quotes) != len(item.quotes) or len(kept_threads) != len(item.threads):
            quotes += len(item.quotes) - len(kept_quotes)
            threads += len(item.threads) - len(kept_threads)
            reports.add(item.report_id)
            ReportItem.objects.filter(pk=item.pk).update(quotes=kept_quotes, threads=kept_threads)
    bodies = _outbox_redraw(report_ids=reports)
    counts = {
        "report quotes": quotes,
        "report threads": threads,
        "reports redacted": len(reports),
        "notification bodies": bodies,
    }
    return {what: count for what, count in counts.items() if count}


def _outbox_redraw(*, report_ids: set[int]) -> int:
    redrawn = 0
    for report in Report.objects.filter(pk__in=report_ids).select_related("department"):
        items = list(report.items.order_by("position"))
        for notification in Notification.objects.filter(event_key=f"reports.published:{report.pk}"):
            if notification.email:
                token = unsubscribe_token(report=report, email=notification.email)
                text, html = report_email(
                    report=report, items=items, unsubscribe_url=absolute(reverse("reports:unsubscribe", args=[token]))
                )
                Notification.objects.filter(pk=notification.pk).update(body=text, body_html=html)
            else:
                Notification.objects.filter(pk=notification.pk).update(body=report_chat(report=report, items=items))
            redrawn += 1
    return redrawn
