"""Corrections of sent updates: linked revisions, like the weekly report's, that never touch what was sent."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from townsquare.core.errors import TownsquareError
from townsquare.core.roles import Role
from townsquare.notify import services as notify
from townsquare.notify.models import Notification
from townsquare.people.models import Team
from townsquare.updates.models import Part, Question, Update, UpdateItem
from townsquare.updates.services import digests as services
from townsquare.updates.tests.test_digests import END, HOSTILE, _done_task, _theme

pytestmark = pytest.mark.django_db

NOTE = "The SSO theme counted 2 paying customers, not 20."


@pytest.fixture
def sent(make_user: Any, http_endpoint: Any) -> dict[str, Any]:
    sofia = make_user(Role.STAKEHOLDER_MEMBER, username="sofia", team="Sales", full_name="Sofia Alvarez")
    dana = make_user(Role.DEVREL_LEAD, username="dana", team="DevRel", is_lead=True)
    destination = notify.destination_save(name="#sales", url=http_endpoint.url("json"), purposes=[], enabled=True)
    audience = services.audience_save(
        name="Sales",
        team=Team.objects.get(slug="sales"),
        destination=destination,
        cadence="weekly",
        weekday=0,
        hour=9,
        parts=list(Part.values),
    )
    _done_task("Streaming demo", ("demo",), END - dt.timedelta(days=2))
    _theme("SSO for enterprise", customer_count=2)
    update = services.update_build_draft(audience=audience, period_end=END)
    services.update_draft_save(update=update, note="Big week.", items={})
    services.update_send(update=update, by=dana)
    update.refresh_from_db()
    return {"sofia": sofia, "dana": dana, "audience": audience, "update": update}


def _page(user: Any, url: str) -> bytes:
    """The page's bytes, with its per-request CSRF tokens blanked."""
    return re.sub(rb"[A-Za-z0-9]{64}", b"CSRF", _client(user).get(url).content)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _snapshot(update: Update) -> dict[str, Any]:
    """Everything a sent update is made of, as stored, and the messages it would render."""
    items = list(update.items.order_by("position"))
    text, html = services.update_email(update=update, items=items)
    return {
        "row": Update.objects.filter(pk=update.pk).values().get(),
        "items": list(UpdateItem.objects.filter(update=update).order_by("position").values()),
        "questions": list(Question.objects.filter(update=update).order_by("pk").values()),
        "outbox": list(
            Notification.objects.filter(event_key=f"updates.sent:{update.pk}")
            .order_by("pk")
            .values("target", "title", "body", "body_html", "link")
        ),
        "messages": (text, html, services.update_chat(update=update, items=items)),
    }


def test_a_correction_is_a_new_draft_revision_with_the_sent_items(sent: dict[str, Any]) -> None:
    update: Update = sent["update"]

    revision = services.update_revise(update=update, by=sent["dana"], correction_note=f"  {NOTE}  ")

    assert (revision.revision, revision.supersedes, revision.status) == (2, update, Update.Status.DRAFT)
    assert revision.correction_note == NOTE and revision.note == "Big week." and revision.created_by == sent["dana"]
    assert (revision.period_start, revision.period_end, revision.audience) == (
        update.period_start,
        update.period_end,
        update.audience,
    )
    fields = ("part", "position", "kind", "title", "body", "url", "people_count", "customer_count", "source_ref")
    assert list(revision.items.order_by("position").values_list(*fields)) == list(
        update.items.order_by("position").values_list(*fields)
    )
    assert revision.subject == update.subject + " (correction 1)"
    update.refresh_from_db()
    assert update.correction == revision and revision.is_correction and not update.is_correction


def test_a_draft_an_empty_note_and_a_second_correction_are_refused_with_the_reason(sent: dict[str, Any]) -> None:
    update: Update = sent["update"]
    draft = services.update_build_draft(audience=sent["audience"], period_end=END + dt.timedelta(days=7))
    with pytest.raises(TownsquareError) as refused:
        services.update_revise(update=draft, by=None, correction_note=NOTE)
    assert str(refused.value) == f"{draft}: only a sent update can be corrected; edit the draft instead"
    with pytest.raises(TownsquareError) as refused:
        services.update_revise(update=update, by=None, correction_note="   ")
    assert str(refused.value) == "correction_note: say what the correction changes"
    assert Update.objects.count() == 2

    revision = services.update_revise(update=update, by=None, correction_note=NOTE)
    with pytest.raises(TownsquareError) as refused:
        services.update_revise(update=update, by=None, correction_note="again")
    assert str(refused.value) == f"{update}: this revision has already been corrected by revision 2 (a draft)"
    with pytest.raises(TownsquareError) as refused:
        services.update_revise(update=revision, by=None, correction_note="again")
    assert "only a sent update can be corrected" in str(refused.value)
    with pytest.raises(TownsquareError) as refused:
        services.update_build_draft(audience=sent["audience"], period_end=END, rebuild=True)
    assert str(refused.value) == f"{revision}: this draft corrects revision 1; edit it instead of rebuilding it"
    assert services.update_build_draft(audience=sent["audience"], period_end=END) == revision
    assert Update.objects.count() == 3


def test_a_sent_correction_can_itself_be_corrected(sent: dict[str, Any]) -> None:
    first = services.update_revise(update=sent["update"], by=None, correction_note=NOTE)
    services.update_send(update=first, by=sent["dana"])
    second = services.update_revise(update=first, by=None, correction_note="One more fix")
    assert (second.revision, second.supersedes, second.subject.endswith("(correction 2)")) == (3, first, True)


def test_the_correction_email_and_chat_say_so_with_the_hostile_note_escaped(sent: dict[str, Any]) -> None:
    update: Update = sent["update"]
    revision = services.update_revise(update=update, by=sent["dana"], correction_note=HOSTILE)

    outcome = services.update_send(update=revision, by=sent["dana"])

    assert outcome.sent_now
    rows = Notification.objects.filter(event_key=f"updates.sent:{revision.pk}")
    assert rows.count() == 2 and {r.title for r in rows} == {revision.subject}
    assert revision.subject.endswith("(correction 1)")
    old_link = f"/updates/{update.pk}/"
    email = rows.get(email="sofia@example.com")
    text, html = email.body, email.body_html
    assert "(correction 1)" in text and "This corrects the update sent earlier" in text and old_link in text
    assert "What changed: <script>alert(1)</script> **bold**" in text and "@\u2060channel" in text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<strong>Correction</strong> of" in html and f'{old_link}" style' in html
    assert 'href="http://evil.example"' not in html and "&amp;amp;" in html
    chat = rows.get(email="").body
    assert "(correction 1)" in chat and "Correction of the earlier update" in chat and old_link in chat
    assert r"\<script\>alert(1)\</script\>" in chat and r"\*\*bold\*\*" in chat
    assert r"\[click\](http://evil.example)" in chat and "[click](http://evil.example)" not in chat.replace("\\", "X")
    assert "@channel" not in text + html + chat


def test_a_sent_update_stays_byte_for_byte_unchanged_after_a_correction(sent: dict[str, Any]) -> None:
    update: Update = sent["update"]
    question = services.question_ask(
        update=update, by=sent["sofia"], text="Which customers?", item=update.items.get(part="themes")
    )
    before = _snapshot(update)
    page = _page(sent["sofia"], f"/updates/{update.pk}/")

    revision = services.update_revise(update=update, by=sent["dana"], correction_note=HOSTILE)
    item = revision.items.get(part="themes")
    services.update_draft_save(
        update=revision,
        note="Corrected note",
        items={item.pk: services.ItemEdit(title="SSO for enterprise (2 customers)", body="Fixed")},
        remove=[revision.items.get(part="work").pk],
    )
    # Unsent, the correction is invisible to readers: the page they see is the very same.
    assert _page(sent["sofia"], f"/updates/{update.pk}/") == page
    services.update_send(update=revision, by=sent["dana"])
    with pytest.raises(TownsquareError, match="a sent update cannot change"):
        services.update_draft_save(update=update, note="late", items={})

    update.refresh_from_db()
    assert _snapshot(update) == before
    question.refresh_from_db()
    assert question.update == update and question.item is not None and question.item.update == update
    assert not Question.objects.filter(update=revision).exists()


def test_devrel_corrects_from_the_page_after_confirming_and_others_may_not(
    sent: dict[str, Any], make_user: Any
) -> None:
    update: Update = sent["update"]
    url = f"/updates/{update.pk}/revise/"
    executive = make_user(Role.EXECUTIVE, username="eve", team="Executive")
    for user in (sent["sofia"], executive):
        page = _client(user).get(f"/updates/{update.pk}/").content.decode()
        assert "Correct this update" not in page
        assert _client(user).post(url, {"correction_note": NOTE}).status_code == 403
    devrel = _client(sent["dana"])
    page = devrel.get(f"/updates/{update.pk}/").content.decode()
    assert "Correct this update" in page and f'action="{url}" data-confirm' in page

    empty = devrel.post(url, {"correction_note": " "})
    assert empty.status_code == 302 and empty["Location"] == f"/updates/{update.pk}/"
    assert "say what the correction changes" in devrel.get(f"/updates/{update.pk}/").content.decode()
    asked = devrel.post(url, {"correction_note": HOSTILE})
    assert asked.status_code == 200 and "Start the correction" in asked.content.decode()
    assert 'name="correction_note" value="&lt;script&gt;' in asked.content.decode()
    dialog = devrel.post(url, {"correction_note": NOTE}, headers={"HX-Request": "true"})
    assert dialog.status_code == 200 and b"<html" not in dialog.content and b"Start the correction" in dialog.content
    assert Update.objects.count() == 1

    done = devrel.post(url, {"correction_note": NOTE, "confirmed": "yes"})
    revision = Update.objects.get(supersedes=update)
    assert done.status_code == 302 and done["Location"] == f"/updates/{revision.pk}/edit/"
    edit = devrel.get(done["Location"]).content.decode()
    assert f'href="/updates/{update.pk}/"' in edit and NOTE in edit and "Save and send the correction" in edit
    again = devrel.post(url, {"correction_note": NOTE, "confirmed": "yes"})
    assert again.status_code == 302 and Update.objects.count() == 2
    assert "already been corrected by revision 2 (a draft)" in devrel.get(f"/updates/{update.pk}/").content.decode()


def test_the_pages_link_both_ways_once_the_correction_is_sent(sent: dict[str, Any]) -> None:
    update: Update = sent["update"]
    revision = services.update_revise(update=update, by=sent["dana"], correction_note=HOSTILE)
    reader, devrel = _client(sent["sofia"]), _client(sent["dana"])

    drafting = devrel.get(f"/updates/{update.pk}/").content.decode()
    assert f'href="/updates/{revision.pk}/edit/">edit correction 1</a>' in drafting
    assert "Correct this update" not in drafting
    assert "correction" not in reader.get(f"/updates/{update.pk}/").content.decode().lower()
    assert reader.get(f"/updates/{revision.pk}/").status_code == 404

    services.update_send(update=revision, by=sent["dana"])
    old = reader.get(f"/updates/{update.pk}/").content.decode()
    assert f'This update was corrected: <a href="/updates/{revision.pk}/">read correction 1</a>' in old
    new = reader.get(f"/updates/{revision.pk}/").content.decode()
    assert f'Correction 1 of <a href="/updates/{update.pk}/">the update sent' in new
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in new and "<script>alert(1)</script>" not in new
    assert "Correct this update" in devrel.get(f"/updates/{revision.pk}/").content.decode()
    assert "Correct this update" not in devrel.get(f"/updates/{update.pk}/").content.decode()

    asked = reader.post(f"/updates/{update.pk}/ask/", {"text": "About the old numbers"})
    assert asked.status_code == 302
    assert Question.objects.get(text="About the old numbers").update == update


def test_the_audience_page_lists_only_the_newest_revision_of_each_period(sent: dict[str, Any], make_user: Any) -> None:
    update: Update = sent["update"]
    audience_url = f"/updates/audiences/{sent['audience'].pk}/"
    later = services.update_build_draft(audience=sent["audience"], period_end=END + dt.timedelta(days=7))
    executive = _client(make_user(Role.EXECUTIVE, username="eve", team="Executive"))
    devrel = _client(sent["dana"])
    revision = services.update_revise(update=update, by=None, correction_note=NOTE)

    page = executive.get(audience_url).content.decode()
    assert f'href="/updates/{update.pk}/"' in page and f"/updates/{revision.pk}/" not in page
    assert f"/updates/{later.pk}/" not in page
    page = devrel.get(audience_url).content.decode()
    assert f'href="/updates/{revision.pk}/edit/"' in page and f'href="/updates/{update.pk}/"' not in page
    assert f'href="/updates/{later.pk}/edit/"' in page and "correction 1" in page

    services.update_send(update=revision, by=sent["dana"])
    for client in (executive, devrel):
        page = client.get(audience_url).content.decode()
        assert f'href="/updates/{revision.pk}/"' in page and f'href="/updates/{update.pk}/"' not in page
        assert page.count(update.period_label) == 1
    index = devrel.get("/updates/").content.decode()
    assert "corrected" in index and "correction 1" in index
