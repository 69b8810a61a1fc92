"""The sponsor's email shows the report's key charts as inline PNG images (email clients do not show SVG)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from townsquare.core.errors import TownsquareError
from townsquare.notify.models import Notification, NotificationAttachment
from townsquare.notify.services import Attachment, notification_enqueue, notifications_deliver_due
from townsquare.value import email_charts

from .test_reports import published

pytestmark = pytest.mark.django_db


def test_the_published_report_arrives_with_its_key_charts_inline(
    make_user: Any, smtp_server: Any, settings: Any
) -> None:
    settings.EMAIL_URL = smtp_server.apprise_url
    report = published(make_user)
    expected = email_charts.key_charts(report)
    assert 1 <= len(expected) <= email_charts.LIMIT

    notifications_deliver_due()
    [mail] = smtp_server.wait_for(1)

    assert mail.get_content_type() == "multipart/related"
    html = next(p.get_content() for p in mail.walk() if p.get_content_type() == "text/html")
    referenced = re.findall(r'<img src="cid:([^"]+)" alt="([^"]+)"', html)
    images = {part["Content-ID"].strip("<>"): part for part in mail.walk() if part.get_content_type() == "image/png"}
    assert [name for name, _ in referenced] == [item.filename for item in expected]
    assert set(images) == {name for name, _ in referenced}
    for name, alt in referenced:
        part = images[name]
        assert part.get_content_disposition() == "inline"
        assert part.get_payload(decode=True).startswith(b"\x89PNG\r\n\x1a\n")
        assert alt in {item.chart.title for item in expected}
    # The takeaway stands beside each image for readers whose client blocks images.
    assert expected[0].chart.summary and expected[0].chart.summary.split(".")[0] in html.replace("&#x27;", "'")


def test_attachments_go_with_emails_only_and_a_bad_name_is_refused() -> None:
    png = Attachment(filename="chart-1-x.png", mimetype="image/png", content=b"\x89PNG\r\n\x1a\nfake")
    with pytest.raises(TownsquareError, match="an attachment's name is letters, digits"):
        notification_enqueue(event_key="t:1", title="t", body="b", emails=["a@example.com"],
                             attachments=[Attachment(filename='x".png', mimetype="image/png", content=b"")])  # fmt: skip
    assert not Notification.objects.exists()
    with pytest.raises(TownsquareError, match="two attachments have the same name"):
        notification_enqueue(event_key="t:2", title="t", body="b", emails=["a@example.com"], attachments=[png, png])

    created = notification_enqueue(event_key="t:3", title="t", body="b", emails=["a@example.com"], attachments=[png])

    [row] = created
    assert list(NotificationAttachment.objects.values_list("notification_id", "filename")) == [
        (row.pk, "chart-1-x.png")
    ]
