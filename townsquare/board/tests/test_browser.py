"""The issue's "done when": a real browser drags a card to Done; a real endpoint gets one message."""

from __future__ import annotations

import pytest

from townsquare.board import services
from townsquare.board.models import Column, Kudos, Task
from townsquare.board.tests.support import accepted_request
from townsquare.core.roles import Role
from townsquare.notify.services import notifications_deliver_due

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def setup_board(make_user, *, from_request: bool = False):  # type: ignore[no-untyped-def]
    dana = make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True, full_name="Dana Okafor")
    eli = make_user(Role.STAKEHOLDER_MEMBER, username="eli", team="Engineering", full_name="Eli Novak")
    sam = make_user(Role.STAKEHOLDER_MEMBER, username="sam", team="Support", full_name="Sam Patel")
    if from_request:  # Marketing filed it and DevRel accepted it: intake made the task
        accepted_request(make_user, by=dana)
        task = Task.objects.get()
        services.task_update(task=task, by=dana, owner=dana, labels=["docs", "kafka"])
        task = services.task_move(task=task, column=Column.REVIEW, by=dana)
    else:
        task = services.task_create(
            title="Kafka connector tutorial",
            owner=dana,
            column=Column.REVIEW,
            by=dana,
            labels=["docs", "kafka"],
            description="From an empty cluster to the first dashboard.",
        )
    services.collaborator_add(task=task, user=eli, contribution="reviewed the code samples", by=dana)
    services.collaborator_add(task=task, user=sam, contribution="collected customer questions", by=dana)
    services.task_create(
        title="Newsletter: October edition", owner=dana, column=Column.DOING, by=dana, labels=["newsletter"]
    )
    services.task_create(title="Meetup in Lisbon", column=Column.BACKLOG, by=dana, labels=["events"])
    return dana, eli, sam, task


def test_dragging_a_card_to_done_announces_it_once_and_credits_both_helpers(
    web, make_user, http_endpoint, smtp_server, settings
) -> None:
    from townsquare.notify.services import destination_save

    settings.EMAIL_URL = smtp_server.apprise_url
    destination_save(name="DevRel channel", url=http_endpoint.url("json"), purposes=["announcements"], enabled=True)
    _dana, eli, sam, task = setup_board(make_user, from_request=True)
    notifications_deliver_due()  # the requester's "accepted" email
    before = len(smtp_server.wait_for(1))
    web.login("dana")
    web.goto("/board/")
    web.screenshot("board")
    card = web.page.locator(f"#task-{task.pk}")
    web.page.drag_and_drop(f"#task-{task.pk}", ".board-column-done .column-cards")
    web.page.wait_for_selector(f".board-column-done #task-{task.pk}:not(.is-saving)")
    web.page.wait_for_selector("text=is done and announced")
    assert card.count() == 1
    web.screenshot("board-after-drop")

    notifications_deliver_due()
    notifications_deliver_due()
    assert len(http_endpoint.received) == 1
    message = http_endpoint.received[0].json()
    assert message["title"] == "Dana Okafor finished “Kafka connector tutorial”"
    assert "**Eli Novak** (Engineering): reviewed the code samples" in message["message"]
    assert "**Sam Patel** (Support): collected customer questions" in message["message"]
    assert f"{settings.BASE_URL}/board/tasks/{task.pk}/" in message["message"]
    mails = smtp_server.wait_for(before + 1)
    assert len(mails) == before + 1
    assert (mails[-1]["To"], mails[-1]["Subject"]) == ("mia@example.com", "Request done: Kafka connector tutorial")

    for person in (eli, sam):
        web.goto(f"/board/kudos/people/{person.pk}/")
        ledger = web.page.locator("main").inner_text()
        assert "Kafka connector tutorial" in ledger and "Collaborator credit" in ledger
    web.screenshot("kudos-person")
    assert Kudos.objects.filter(kind=Kudos.Kind.CREDIT).count() == 2

    web.goto("/board/done/")
    assert "Kafka connector tutorial" in web.page.locator(".done-feed").inner_text()
    web.screenshot("done-feed")
    web.goto(f"/board/tasks/{task.pk}/")
    history = web.page.locator(".task-history").inner_text()
    assert "moved from Review to Done" in history and "announced to 1 destination" in history
    web.screenshot("task-page")
    web.goto("/board/kudos/")
    web.screenshot("kudos")
    assert web.console_errors == []


def test_the_move_form_works_with_javascript_turned_off(browser, live_server, make_user, http_endpoint) -> None:
    from townsquare.notify.services import destination_save

    destination_save(name="DevRel channel", url=http_endpoint.url("json"), purposes=["announcements"], enabled=True)
    _dana, _eli, _sam, task = setup_board(make_user)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "dana")
        page.fill("#id_password", "pw-for-tests-123")
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/board/")
        card = page.locator(f"#task-{task.pk}")
        card.locator("select[name=column]").select_option("done")
        card.get_by_role("button", name="Move").click()
        page.wait_for_url(f"{live_server.url}/board/")
        assert "is done and announced" in page.locator(".flash").inner_text()
        assert page.locator(f".board-column-done #task-{task.pk}").count() == 1
    finally:
        context.close()
    notifications_deliver_due()
    assert len(http_endpoint.received) == 1


def test_review_mode_lets_devrel_edit_the_announcement_in_the_browser(web, make_user, http_endpoint) -> None:
    from townsquare.board.models import BoardSettings
    from townsquare.notify.services import destination_save

    destination_save(name="DevRel channel", url=http_endpoint.url("json"), purposes=["announcements"], enabled=True)
    dana, _eli, _sam, task = setup_board(make_user)
    services.board_settings_update(announce_mode=BoardSettings.AnnounceMode.REVIEW, by=dana)
    web.login("dana")
    web.goto("/board/")
    web.page.drag_and_drop(f"#task-{task.pk}", ".board-column-done .column-cards")
    web.page.wait_for_selector("text=Announcements waiting for review")
    web.page.get_by_role("link", name="Dana Okafor finished “Kafka connector tutorial”").click()
    web.page.fill("#id_note", "Try it and tell us what breaks.")
    web.page.get_by_role("button", name="Save and preview").click()
    assert "Try it and tell us what breaks." in web.page.locator(".message-body").inner_text()
    web.screenshot("announcement-preview")
    web.page.get_by_role("button", name="Send now").click()
    notifications_deliver_due()
    assert len(http_endpoint.received) == 1
    assert "Try it and tell us what breaks." in http_endpoint.received[0].json()["message"]
    assert web.console_errors == []


def test_the_demo_board_renders_every_column_for_a_stakeholder_and_devrel(web) -> None:
    from townsquare.board.demo import board_demo_load
    from townsquare.home.demo import DEMO_PASSWORD, demo_load

    demo_load()
    board_demo_load()
    web.login("sam", password=DEMO_PASSWORD)
    web.goto("/board/")
    assert web.page.locator(".task-card").count() == Task.objects.filter(visibility="public").count()
    assert web.page.locator(".move-form").count() == 0
    web.goto("/board/kudos/")
    web.screenshot("demo-kudos")
    web.page.context.clear_cookies()
    web.login("dana", password=DEMO_PASSWORD)
    web.goto("/board/")
    assert web.page.locator(".task-card").count() == Task.objects.count()
    web.screenshot("demo-board")
    web.goto("/board/?team=support")
    web.screenshot("demo-board-support")
    assert web.console_errors == []


def test_leaving_the_task_page_with_typed_thanks_asks_first(web, make_user) -> None:
    _dana, _eli, _sam, task = setup_board(make_user)
    web.login("dana")
    web.goto(f"/board/tasks/{task.pk}/")
    asked: list[str] = []

    def answer(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.type)
        dialog.dismiss()  # stay on the page

    web.page.on("dialog", answer)
    web.page.get_by_text("Say thank you").click()
    web.page.locator("form[action$='/thanks/'] input[name='thanks-message']").type("Thanks for the samples!")
    web.page.get_by_role("link", name="Board").first.click()
    web.page.wait_for_timeout(300)
    assert asked == ["beforeunload"]
    assert web.page.url.endswith(f"/board/tasks/{task.pk}/")  # stayed, text kept
    assert (
        "Thanks for the samples!"
        in web.page.locator("form[action$='/thanks/'] input[name='thanks-message']").input_value()
    )
    web.page.locator("form[action$='/thanks/'] input[name='thanks-name']").fill("Ana from the meetup")
    web.page.get_by_role("button", name="Send thanks").click()  # saving the typed form itself asks nothing
    web.page.wait_for_selector("text=Thanked")
    assert asked == ["beforeunload"]
    assert web.console_errors == []


def _tab_to(web, selector: str, *, limit: int = 250) -> None:  # type: ignore[no-untyped-def]
    """Press Tab until ``selector`` has the focus, as someone without a mouse would; fail if it never does."""
    for _ in range(limit):
        web.page.keyboard.press("Tab")
        if web.page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never took the keyboard focus in {limit} Tabs")


def test_a_card_moves_with_the_keyboard_alone_and_the_focus_shows(web, make_user) -> None:
    setup_board(make_user)
    backlog = Task.objects.get(title="Meetup in Lisbon")
    web.login("dana")
    web.goto("/board/")
    _tab_to(web, f"#move-{backlog.pk}")
    outline = web.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), "the focused control shows no outline"
    current = web.page.evaluate("document.activeElement.value")
    web.page.keyboard.press("ArrowDown")  # the next column in the list
    chosen = web.page.evaluate("document.activeElement.value")
    assert chosen != current
    web.page.keyboard.press("Tab")  # to the card's Move button
    assert web.page.evaluate("document.activeElement.textContent.trim()") == "Move"
    web.page.keyboard.press("Enter")
    web.page.wait_for_function(
        "([pk, col]) => !!document.querySelector(`.board-column-${col} #task-${pk}`)", arg=[backlog.pk, chosen]
    )
    backlog.refresh_from_db()
    assert backlog.column == chosen
    assert web.console_errors == []
