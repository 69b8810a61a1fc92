from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from townsquare.core.errors import TownsquareError
from townsquare.notify import services
from townsquare.notify.models import Destination, Notification

pytestmark = pytest.mark.django_db


def make_destination(
    url: str, *, name: str = "DevRel channel", purposes: tuple[str, ...] = ("announcements",)
) -> Destination:
    return services.destination_save(name=name, url=url, purposes=list(purposes), enabled=True)


def due_now(notification: Notification) -> None:
    """Skip the backoff wait: the row becomes due as if time had passed."""
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


def test_it_records_one_notification_per_target_however_often_the_event_is_recorded(http_endpoint) -> None:
    make_destination(http_endpoint.url("json"))
    make_destination(http_endpoint.url("form"), name="Second room")
    first = services.notification_enqueue(
        event_key="task:1:done", title="Done", body="x", purpose="announcements", emails=["Ana@Example.com"]
    )
    again = services.notification_enqueue(
        event_key="task:1:done", title="Done", body="x", purpose="announcements", emails=["ana@example.com"]
    )
    assert len(first) == 3
    assert again == []
    assert Notification.objects.count() == 3


def test_it_sends_only_to_enabled_destinations_with_the_purpose(http_endpoint) -> None:
    make_destination(http_endpoint.url("json"), name="announce")
    make_destination(http_endpoint.url("json"), name="reports", purposes=("reports",))
    services.destination_save(name="off", url=http_endpoint.url("json"), purposes=["announcements"], enabled=False)
    rows = services.notification_enqueue(event_key="e1", title="t", body="b", purpose="announcements")
    assert [row.destination.name for row in rows] == ["announce"]


def test_it_delivers_json_form_and_mattermost_webhooks_to_a_local_endpoint(http_endpoint) -> None:
    make_destination(http_endpoint.url("json", "/json"), name="json")
    make_destination(http_endpoint.url("form", "/form"), name="form")
    make_destination(f"mmost://127.0.0.1:{http_endpoint.port}/mattermosttoken", name="mattermost")
    rows = services.notification_enqueue(
        event_key="e2", title="Ana finished the tutorial", body="More here: https://x/1", purpose="announcements"
    )
    for row in rows:
        assert services.notification_deliver(notification_id=row.pk) == Notification.Status.SENT
    received = {r.path: r for r in http_endpoint.received}
    assert received["/json"].json()["title"] == "Ana finished the tutorial"
    assert received["/form"].form()["message"] == ["More here: https://x/1"]
    assert "Ana finished the tutorial" in received["/hooks/mattermosttoken"].json()["text"]
    assert Notification.objects.filter(status=Notification.Status.SENT).count() == 3


def test_it_emails_through_a_local_smtp_server(smtp_server, settings) -> None:
    settings.EMAIL_URL = smtp_server.apprise_url
    [row] = services.notification_enqueue(
        event_key="e3",
        title="Your request was accepted",
        body="plain",
        body_html="<p>It was <b>accepted</b></p>",
        emails=["mia@example.com"],
    )
    assert services.notification_deliver(notification_id=row.pk) == Notification.Status.SENT
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "mia@example.com"
    assert message["Subject"] == "Your request was accepted"
    parts = {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}
    assert "<b>accepted</b>" in parts["text/html"]
    assert "accepted" in parts["text/plain"]


def test_delivering_twice_sends_once(http_endpoint) -> None:
    make_destination(http_endpoint.url("json"))
    [row] = services.notification_enqueue(event_key="e4", title="t", body="b", purpose="announcements")
    services.notification_deliver(notification_id=row.pk)
    assert services.notification_deliver(notification_id=row.pk) == Notification.Status.SENT
    assert len(http_endpoint.received) == 1


def test_it_retries_with_exponential_backoff_until_the_endpoint_recovers(http_endpoint, settings) -> None:
    settings.NOTIFY_BACKOFF_SECONDS = 60
    make_destination(http_endpoint.url("json"))
    [row] = services.notification_enqueue(event_key="e5", title="t", body="b", purpose="announcements")
    http_endpoint.fail_next(2, status=500)

    before = timezone.now()
    assert services.notification_deliver(notification_id=row.pk) == Notification.Status.FAILED
    row.refresh_from_db()
    first_delay = (row.next_attempt_at - before).total_seconds()
    assert 48 <= first_delay <= 73  # 60 s ± 20 % jitter
    assert "500" in row.last_error
    # Not due yet: another delivery call does nothing.
    assert services.notification_deliver(notification_id=row.pk) == Notification.Status.FAILED
    assert Notification.objects.get(pk=row.pk).attempts == 1

    due_now(row)
    before = timezone.now()
    assert services.notification_deliver(notification_id=row.pk) == Notification.Status.FAILED
    row.refresh_from_db()
    assert 96 <= (row.next_attempt_at - before).total_seconds() <= 145  # doubled

    due_now(row)
    assert services.notifications_deliver_due() == 1
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert row.attempts == 3
    assert row.last_error == ""
    assert len(http_endpoint.received) == 1


def test_it_gives_up_after_the_last_attempt_and_a_person_can_retry(http_endpoint, settings) -> None:
    settings.NOTIFY_MAX_ATTEMPTS = 2
    make_destination(http_endpoint.url("json"))
    [row] = services.notification_enqueue(event_key="e6", title="t", body="b", purpose="announcements")
    http_endpoint.fail_next(2, status=503)
    services.notification_deliver(notification_id=row.pk)
    due_now(row)
    assert services.notification_deliver(notification_id=row.pk) == Notification.Status.DEAD
    row.refresh_from_db()
    assert row.needs_attention
    assert "503" in row.last_error

    services.notification_retry(notification=row)
    assert services.notification_deliver(notification_id=row.pk) == Notification.Status.SENT
    assert len(http_endpoint.received) == 1


def test_retrying_a_sent_notification_is_refused(http_endpoint) -> None:
    make_destination(http_endpoint.url("json"))
    [row] = services.notification_enqueue(event_key="e7", title="t", body="b", purpose="announcements")
    services.notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    with pytest.raises(TownsquareError, match="cannot retry a notification that is sent"):
        services.notification_retry(notification=row)


def test_an_unreachable_service_is_retried_not_dropped() -> None:
    make_destination("json://127.0.0.1:9/nothing-listens-here")
    [row] = services.notification_enqueue(event_key="e8", title="t", body="b", purpose="announcements")
    assert services.notification_deliver(notification_id=row.pk) == Notification.Status.FAILED
    row.refresh_from_db()
    assert row.last_error


def test_email_waits_for_configuration_instead_of_being_lost(settings, smtp_server) -> None:
    settings.EMAIL_URL = ""
    [row] = services.notification_enqueue(event_key="e9", title="t", body="b", emails=["x@example.com"])
    assert services.notification_deliver(notification_id=row.pk) == Notification.Status.WAITING
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.WAITING, 0)
    assert row.get_status_display() == "Waiting for email to be set up"
    assert "TOWNSQUARE_EMAIL_URL is not set" in row.last_error
    assert not row.needs_attention
    assert services.notifications_deliver_due() == 0  # still not set up: nothing tried, nothing failed
    assert Notification.objects.get(pk=row.pk).status == Notification.Status.WAITING
    # An administrator configures email; the sweep sends the held message at once, not an hour later.
    settings.EMAIL_URL = smtp_server.apprise_url
    assert services.notifications_deliver_due() == 1
    assert Notification.objects.get(pk=row.pk).status == Notification.Status.SENT
    assert smtp_server.wait_for(1)[0]["To"] == "x@example.com"


def test_errors_never_contain_the_secret_part_of_the_url(http_endpoint) -> None:
    secret_path = "/hooks/T000SECRET/B000SECRET/XXXXSUPERSECRETTOKEN"
    make_destination(http_endpoint.url("json", secret_path))
    [row] = services.notification_enqueue(event_key="e10", title="t", body="b", purpose="announcements")
    http_endpoint.fail_next(1, status=500)
    services.notification_deliver(notification_id=row.pk)
    row.refresh_from_db()
    assert row.last_error
    assert "SUPERSECRET" not in row.last_error


def test_destination_urls_are_encrypted_at_rest() -> None:
    destination = make_destination("json://hooks.example.com/SECRETTOKEN123")
    with connection.cursor() as cursor:
        cursor.execute("SELECT url FROM notify_destination WHERE id = %s", [destination.pk])
        stored = cursor.fetchone()[0]
    assert "SECRETTOKEN123" not in stored
    assert Destination.objects.get(pk=destination.pk).url == "json://hooks.example.com/SECRETTOKEN123"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a url", "not a URL"),
        ("gopher://example.com/x", "gopher:// service is not supported"),
        ("slack://", "cannot parse"),
    ],
)
def test_it_rejects_unusable_destination_urls_with_the_reason(url: str, reason: str) -> None:
    with pytest.raises(TownsquareError, match=reason):
        make_destination(url)
    assert not Destination.objects.exists()


def test_a_stale_claim_that_never_started_sending_is_retried(http_endpoint) -> None:
    make_destination(http_endpoint.url("json"))
    [row] = services.notification_enqueue(event_key="e11", title="t", body="b", purpose="announcements")
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Notification.objects.filter(pk=row.pk).update(status=Notification.Status.SENDING, claimed_at=long_ago, attempts=1)
    assert services.notifications_recover_stale() == {"retried": 1, "uncertain": 0}
    services.notifications_deliver_due()
    assert Notification.objects.get(pk=row.pk).status == Notification.Status.SENT
    assert len(http_endpoint.received) == 1


def test_a_stale_claim_that_started_sending_becomes_uncertain_and_is_not_resent(http_endpoint) -> None:
    make_destination(http_endpoint.url("json"))
    [row] = services.notification_enqueue(event_key="e12", title="t", body="b", purpose="announcements")
    long_ago = timezone.now() - dt.timedelta(hours=1)
    Notification.objects.filter(pk=row.pk).update(
        status=Notification.Status.SENDING, claimed_at=long_ago, send_started_at=long_ago, attempts=1
    )
    assert services.notifications_recover_stale() == {"retried": 0, "uncertain": 1}
    assert services.notifications_deliver_due() == 0
    row.refresh_from_db()
    assert row.status == Notification.Status.UNCERTAIN
    assert http_endpoint.received == []
    services.notification_mark_sent(notification=row)
    assert Notification.objects.get(pk=row.pk).status == Notification.Status.SENT


def test_a_fresh_claim_is_left_alone_by_recovery(http_endpoint) -> None:
    make_destination(http_endpoint.url("json"))
    [row] = services.notification_enqueue(event_key="e13", title="t", body="b", purpose="announcements")
    Notification.objects.filter(pk=row.pk).update(status=Notification.Status.SENDING, claimed_at=timezone.now())
    assert services.notifications_recover_stale() == {"retried": 0, "uncertain": 0}


def test_the_test_button_reports_success_and_failure(http_endpoint) -> None:
    destination = make_destination(http_endpoint.url("json"))
    assert services.destination_test(destination=destination).ok
    http_endpoint.fail_next(1)
    outcome = services.destination_test(destination=destination)
    assert not outcome.ok
    destination.refresh_from_db()
    assert destination.last_test_ok is False
    assert http_endpoint.received[0].json()["title"] == "Townsquare test message"
