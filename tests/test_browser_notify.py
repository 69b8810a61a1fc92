"""A DevRel lead connects the company channel in the browser and sends a test message to a real endpoint."""

from __future__ import annotations

import pytest

from townsquare.core.roles import Role
from townsquare.notify import services
from townsquare.notify.models import Notification

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_lead_adds_a_destination_and_sends_a_test_message(web, make_user, http_endpoint) -> None:
    make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True, full_name="Dana Okafor")
    web.login("dana")
    web.goto("/notifications/destinations/")
    web.page.get_by_role("link", name="Add a destination").first.click()
    web.page.fill("#id_name", "#devrel-announcements")
    web.page.fill("#id_url", http_endpoint.url("json", "/hooks/SECRET-IN-URL"))
    # The URL can be checked while typing: Show reveals it, Hide masks it again.
    assert web.page.get_attribute("#id_url", "type") == "password"
    web.page.get_by_role("button", name="Show the Apprise URL").click()
    assert web.page.get_attribute("#id_url", "type") == "text"
    web.page.get_by_role("button", name="Show the Apprise URL").click()
    assert web.page.get_attribute("#id_url", "type") == "password"
    web.page.get_by_label("Done announcements (public DevRel channel)").check()
    web.page.get_by_role("button", name="Save").click()
    web.page.wait_for_selector("text=Saved destination")
    assert "SECRET-IN-URL" not in web.page.content()
    web.page.get_by_role("button", name="Send a test message").click()
    web.page.wait_for_selector("text=Test message sent")
    assert [r.json()["title"] for r in http_endpoint.received] == ["Townsquare test message"]
    web.screenshot("destinations")
    assert web.console_errors == []


def test_the_outbox_shows_a_dead_notification_and_retries_it(web, make_user, http_endpoint) -> None:
    make_user(Role.DEVREL_MEMBER, username="ari", full_name="Ari Lindqvist")
    services.destination_save(name="#devrel", url=http_endpoint.url("json"), purposes=["announcements"], enabled=True)
    [dead] = services.notification_enqueue(
        event_key="b-dead", title="Ana finished “Kafka connector tutorial”", body="More here", purpose="announcements"
    )
    Notification.objects.filter(pk=dead.pk).update(
        status=Notification.Status.DEAD, attempts=8, last_error="Failed to send JSON POST notification: error=503."
    )
    [sent] = services.notification_enqueue(
        event_key="b-sent", title="Ari finished “Q3 talk at PyCon”", body="More here", purpose="announcements"
    )
    services.notification_deliver(notification_id=sent.pk)
    web.login("ari")
    web.goto("/notifications/")
    web.screenshot("outbox")
    web.page.get_by_role("link", name="Ana finished “Kafka connector tutorial”").click()
    assert "error=503" in web.page.locator(".error-text").inner_text()
    web.page.get_by_role("button", name="Retry now").click()
    web.page.wait_for_selector("text=Queued for another attempt")
    services.notifications_deliver_due()
    assert Notification.objects.get(pk=dead.pk).status == Notification.Status.SENT
    assert len(http_endpoint.received) == 2


def test_deleting_a_destination_asks_in_a_dialog_and_without_javascript_on_a_page(
    web, browser, live_server, make_user, http_endpoint
) -> None:
    from townsquare.notify.models import Destination
    from townsquare.testing.browser import BrowserSession

    make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True, full_name="Dana Okafor")
    room = services.destination_save(
        name="#devrel-announcements", url=http_endpoint.url("json"), purposes=["announcements"], enabled=True
    )
    services.notification_enqueue(event_key="e1", title="Ana finished", body="b", purpose="announcements")
    web.login("dana")
    web.goto(f"/notifications/destinations/{room.pk}/")
    web.page.get_by_role("button", name="Delete this destination…").click()
    dialog = web.page.locator("dialog#confirm-dialog[open]")
    dialog.wait_for()
    assert "Delete the destination “#devrel-announcements”?" in dialog.inner_text()
    assert "1 message in the outbox" in dialog.inner_text()
    web.screenshot("confirm-dialog", full_page=False)
    dialog.get_by_role("link", name="Cancel").click()  # keyboard focus starts here: the safe choice
    assert web.page.locator("dialog#confirm-dialog[open]").count() == 0
    assert Destination.objects.filter(pk=room.pk).exists()
    web.page.get_by_role("button", name="Delete this destination…").click()
    web.page.locator("dialog#confirm-dialog[open]").get_by_role("button", name="Delete the destination").click()
    web.page.wait_for_selector("text=Deleted destination")
    assert not Destination.objects.filter(pk=room.pk).exists()
    assert web.console_errors == []

    # Without JavaScript the same question is a page of its own.
    other = services.destination_save(name="#reports", url=http_endpoint.url("json"), purposes=[], enabled=True)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 800})
    plain = BrowserSession(page=context.new_page(), base_url=live_server.url, console_errors=[])
    try:
        plain.login("dana")
        plain.goto(f"/notifications/destinations/{other.pk}/")
        plain.page.get_by_role("button", name="Delete this destination…").click()
        plain.page.wait_for_selector("h2:has-text('Delete the destination “#reports”?')")
        assert Destination.objects.filter(pk=other.pk).exists()
        plain.page.get_by_role("button", name="Delete the destination").click()
        plain.page.wait_for_selector("text=Deleted destination")
        assert not Destination.objects.filter(pk=other.pk).exists()
    finally:
        context.close()
