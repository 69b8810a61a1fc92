from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from townsquare.people.models import MergeRecord
from townsquare.people.tests.factories import AccountFactory, IdentityFactory, MemberFactory
from townsquare.sources.models import Source
from townsquare.sources.tests.factories import MessageFactory, SourceFactory


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_curator_merges_two_members_and_sees_three_channels_on_one_page(web: Any, make_user: Any) -> None:
    make_user("devrel_member", username="curator", full_name="Cora Curator")
    account = AccountFactory(name="Quillmoor Analytics", organization__name="Quillmoor Analytics", tier="enterprise")
    now = timezone.now()
    ana = MemberFactory(
        display_name="Ana Souza",
        organization=account.organization,
        first_seen=now - dt.timedelta(weeks=10),
        last_seen=now - dt.timedelta(days=1),
    )
    github = IdentityFactory(member=ana, realm="github", handle="anasouza", email="ana@quillmoor.com")
    slack = IdentityFactory(member=ana, realm="slack:T024BE7LD", handle="ana.s")
    other = MemberFactory(
        display_name="ana_s <b>forum</b>", first_seen=now - dt.timedelta(weeks=5), last_seen=now - dt.timedelta(weeks=5)
    )
    forum = IdentityFactory(member=other, realm="discourse:forum.example.org", handle="ana_s")
    sources = {
        "github": SourceFactory(name="GitHub example/sdk", kind=Source.Kind.GITHUB),
        "slack": SourceFactory(name="Community Slack", kind=Source.Kind.SLACK_EXPORT),
        "forum": SourceFactory(name="Discourse forum", kind=Source.Kind.DISCOURSE),
    }
    MessageFactory(
        author=github,
        source=sources["github"],
        title="SDK crashes on retry",
        kind="issue",
        body="Stack trace attached.",
        url="https://github.com/example/sdk/issues/12",
        created_at=now - dt.timedelta(weeks=10),
    )
    first_chat = MessageFactory(
        author=slack,
        source=sources["slack"],
        kind="chat",
        body="Anyone seen the retry crash?",
        url="https://example.slack.com/archives/C1/p1",
        created_at=now - dt.timedelta(days=1),
    )
    chatter = [
        (1, "The retry crash is back on 2.4.1 for us."),
        (2, "Pinning the SDK to 2.3 works around it."),
        (2, "Does the changelog say anything about backoff?"),
        (4, "Thanks, the timeout flag helped."),
        (6, "We are rolling the SDK out to three more services."),
        (6, "Is there a way to log each retry?"),
        (6, "Found it: the debug flag does it."),
        (9, "Hello all, Ana from Quillmoor here."),
    ]
    for weeks_ago, body in chatter:
        MessageFactory(
            author=slack,
            source=sources["slack"],
            channel=first_chat.channel,
            kind="chat",
            body=body,
            created_at=now - dt.timedelta(weeks=weeks_ago),
        )
    MessageFactory(
        author=forum,
        source=sources["forum"],
        kind="post",
        title="Retry logic docs",
        body_html="<p>The docs on <strong>retries</strong> are thin.</p><script>alert(1)</script>",
        url="https://forum.example.org/t/retry-logic/7",
        created_at=now - dt.timedelta(weeks=5),
    )

    web.login("curator")
    web.goto(f"/people/members/{ana.pk}/")
    web.page.get_by_role("link", name="Merge another member into this one").click()
    web.page.fill("#merge-q", "ana_s")
    merge = web.page.get_by_role("button", name="Merge into Ana Souza")
    merge.wait_for()
    web.screenshot("people-merge-search")
    merge.click()
    dialog = web.page.locator("dialog#confirm-dialog[open]")  # merging asks first, in the layout's dialog
    assert "Merge ana_s <b>forum</b> into Ana Souza?" in dialog.inner_text()
    dialog.get_by_role("button", name="Merge", exact=True).click()
    web.page.wait_for_url(f"**/people/members/{ana.pk}/")
    web.page.locator("ol.people-message-list").wait_for()  # sources' section, loaded by htmx

    text = web.page.inner_text("main")
    assert "Merged ana_s <b>forum</b> into this member." in text
    for name in ("GitHub example/sdk", "Community Slack", "Discourse forum"):
        assert name in text
    assert "Enterprise" in text and "Quillmoor Analytics" in text
    assert web.page.locator("a[href='https://forum.example.org/t/retry-logic/7']").count() == 1
    assert web.page.locator(".message-body strong").inner_text() == "retries"
    assert web.console_errors == []
    web.screenshot("people-member-three-channels")
    assert MergeRecord.objects.get().target_id == ana.pk

    web.goto("/people/merges/")
    web.page.get_by_role("button", name="Undo").click()
    web.page.wait_for_url(f"**/people/members/{other.pk}/")
    web.page.locator("ol.people-message-list").wait_for()
    assert "Discourse forum" in web.page.inner_text("main")
    web.goto("/people/")
    web.page.fill("#id_q", "ana")
    web.page.wait_for_function("document.querySelectorAll('#people-rows tbody tr').length === 2")
    web.page.select_option("#id_activity", "active")  # active in the last 30 days: Ana, not the forum account
    expect(web.page.locator("#people-rows tbody tr")).to_have_count(1)
    web.page.get_by_text("Save as a segment").click()
    web.page.fill("#people-rows #id_name", "Active customers")
    web.page.get_by_role("button", name="Save", exact=True).click()
    web.page.wait_for_url("**/people/?q=ana&activity=active")
    segments = web.page.get_by_role("navigation", name="Saved segments")
    assert segments.get_by_role("link", name="Active customers").get_attribute("aria-current") == "true"
    assert web.page.locator("#people-rows tbody tr").count() == 1
    web.goto("/people/")
    segments.get_by_role("link", name="Active customers").click()
    web.page.wait_for_url("**/people/?q=ana&activity=active")
    assert web.console_errors == []
    web.screenshot("people-directory")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_lead_previews_and_imports_the_crm_csv_then_sees_customers_in_the_directory(web: Any, make_user: Any) -> None:
    from townsquare.people.demo import SAMPLE_CRM_CSV
    from townsquare.people.services import member_for_new_identity

    make_user("devrel_lead", username="lead", full_name="Dana Lead")
    member_for_new_identity(
        realm="github", external_id="1", handle="kit", display_name="Kit Moreau", email="kit@cobaltline.net"
    )
    web.login("lead")
    web.goto("/people/accounts/import/")
    web.page.set_input_files("#id_file", str(SAMPLE_CRM_CSV))
    web.page.get_by_role("button", name="Upload and preview").click()
    web.page.get_by_role("heading", name="Dry run: what the import would do").wait_for()
    web.screenshot("people-crm-import-preview")
    web.page.get_by_role("button", name="Import 18 new and 0 changed accounts").click()
    web.page.get_by_role("heading", name="Imported").wait_for()
    web.goto("/people/?tier=enterprise")
    row = web.page.locator("#people-rows tbody tr")
    assert row.count() == 1
    assert "Kit Moreau" in row.inner_text() and "Enterprise" in row.inner_text()
    web.goto("/people/accounts/")
    web.screenshot("people-accounts")
    assert web.console_errors == []
