from __future__ import annotations

import pytest

from townsquare.core.roles import Role
from townsquare.notify import services
from townsquare.notify.models import Destination, Notification

pytestmark = pytest.mark.django_db


def test_a_lead_adds_a_destination_and_its_url_is_never_shown_back(client_for, http_endpoint) -> None:
    client = client_for(Role.DEVREL_LEAD)
    secret_url = http_endpoint.url("json", "/hooks/VERYSECRETTOKEN42")
    response = client.post(
        "/notifications/destinations/new/",
        {"name": "DevRel room", "url": secret_url, "purposes": ["announcements"], "enabled": "on"},
    )
    assert response.status_code == 302
    destination = Destination.objects.get()
    assert destination.service == "json"
    for page in ("/notifications/destinations/", f"/notifications/destinations/{destination.pk}/"):
        assert "VERYSECRETTOKEN42" not in client.get(page).content.decode()


def test_editing_without_a_url_keeps_the_stored_one(client_for, http_endpoint) -> None:
    client = client_for(Role.DEVREL_LEAD)
    destination = services.destination_save(name="room", url=http_endpoint.url("json"), purposes=[], enabled=True)
    client.post(
        f"/notifications/destinations/{destination.pk}/",
        {"name": "renamed", "url": "", "purposes": ["reports"], "enabled": "on"},
    )
    destination.refresh_from_db()
    assert (destination.name, destination.purposes, destination.url) == (
        "renamed",
        ["reports"],
        http_endpoint.url("json"),
    )


def test_a_bad_url_is_a_form_error_and_nothing_is_saved(client_for) -> None:
    client = client_for(Role.DEVREL_LEAD)
    response = client.post("/notifications/destinations/new/", {"name": "x", "url": "gopher://nope", "enabled": "on"})
    assert response.status_code == 200
    assert "gopher:// service is not supported" in response.content.decode()
    assert not Destination.objects.exists()


def test_the_test_button_sends_a_message_to_the_endpoint(client_for, http_endpoint) -> None:
    client = client_for(Role.DEVREL_LEAD)
    destination = services.destination_save(name="room", url=http_endpoint.url("json"), purposes=[], enabled=True)
    response = client.post(f"/notifications/destinations/{destination.pk}/test/", follow=True)
    assert "Test message sent" in response.content.decode()
    assert len(http_endpoint.received) == 1


def test_the_retry_button_requeues_a_dead_notification(client_for, http_endpoint) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    services.destination_save(name="room", url=http_endpoint.url("json"), purposes=["alerts"], enabled=True)
    [row] = services.notification_enqueue(event_key="v1", title="t", body="b", purpose="alerts")
    Notification.objects.filter(pk=row.pk).update(status=Notification.Status.DEAD, attempts=8, last_error="HTTP 500")
    page = client.get(f"/notifications/{row.pk}/").content.decode()
    assert "HTTP 500" in page and "Retry now" in page
    client.post(f"/notifications/{row.pk}/retry/")
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Notification.Status.PENDING, 0)


def test_the_outbox_escapes_titles_and_filters_by_status(client_for) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    services.notification_enqueue(event_key="v2", title="<script>alert(1)</script>", body="b", emails=["a@example.com"])
    page = client.get("/notifications/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "alert(1)" not in client.get("/notifications/?status=sent").content.decode()
    fragment = client.get("/notifications/?status=pending", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "alert(1)" in fragment


def test_the_outbox_list_uses_a_constant_number_of_queries(client_for, django_assert_max_num_queries) -> None:
    client = client_for(Role.DEVREL_MEMBER)
    for i in range(30):
        services.notification_enqueue(event_key=f"q{i}", title="t", body="b", emails=[f"p{i}@example.com"])
    with django_assert_max_num_queries(10):
        client.get("/notifications/")


def test_deleting_a_destination_asks_first_and_says_what_goes_with_it(client_for, http_endpoint) -> None:
    client = client_for(Role.DEVREL_LEAD)
    destination = services.destination_save(
        name="DevRel room", url=http_endpoint.url("json"), purposes=["announcements"], enabled=True
    )
    services.notification_enqueue(event_key="e1", title="t", body="b", purpose="announcements")
    url = f"/notifications/destinations/{destination.pk}/delete/"
    page = client.post(url).content.decode()
    assert "Delete the destination “DevRel room”?" in page and "1 message in the outbox" in page
    assert Destination.objects.exists()
    response = client.post(url, {"confirmed": "yes"})
    assert response.status_code == 302 and not Destination.objects.exists()
