from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from townsquare.core import roles
from townsquare.people import selectors, views
from townsquare.people.models import Account, ErasureRecord, Member, MergeRecord, MergeSuggestion, Segment
from townsquare.people.services import member_for_new_identity
from townsquare.people.tests.factories import AccountFactory, IdentityFactory, MemberFactory, OrganizationFactory
from townsquare.sources.models import Message
from townsquare.sources.tests.factories import MessageFactory, SourceFactory

pytestmark = pytest.mark.django_db


def populate(count: int) -> list[Member]:
    org = AccountFactory(tier="enterprise").organization
    members = []
    for n in range(count):
        identity = IdentityFactory(
            realm="github" if n % 2 else "slack:T1", member__organization=org if n % 3 == 0 else None
        )
        IdentityFactory(member=identity.member, realm="irc:libera.chat")
        MessageFactory.create_batch(2, author=identity)
        members.append(identity.member)
    return members


def test_the_directory_lists_people_in_a_fixed_number_of_queries(
    client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for("devrel_member")
    populate(5)
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("people:directory"))
    populate(30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("people:directory"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 35
    assert b"Enterprise" in response.content


@pytest.mark.parametrize("query", ["Ada Quill", "adaq", "ada@quillmoor", "Quillmoor Analytics"])
def test_the_directory_searches_names_handles_emails_and_organisations(client_for: Any, query: str) -> None:
    client = client_for("devrel_member")
    org = OrganizationFactory(name="Quillmoor Analytics")
    IdentityFactory(
        handle="adaq", email="ada@quillmoor.com", member__display_name="Ada Quill", member__organization=org
    )
    IdentityFactory(handle="zed", member__display_name="Zed")
    response = client.get(reverse("people:directory"), {"q": query})
    assert [m.display_name for m in response.context["page"].object_list] == ["Ada Quill"]


def test_the_directory_filters_by_tier_staff_channel_and_organisation(client_for: Any) -> None:
    client = client_for("devrel_member")
    account = AccountFactory(tier="startup")
    customer = IdentityFactory(realm="discourse:forum.example.org", member__organization=account.organization).member
    staff = IdentityFactory(realm="slack:T1", member__is_staff=True).member
    IdentityFactory(realm="github")
    other_workspace = IdentityFactory(realm="slack:T2", member__display_name="zz other workspace").member
    IdentityFactory(realm="slackware:forum")  # another kind, though its name starts the same

    def names(**params: Any) -> list[int]:
        return [m.pk for m in client.get(reverse("people:directory"), params).context["page"].object_list]

    assert names(tier="startup") == [customer.pk] == names(tier="customer")
    assert names(tier="enterprise") == []
    assert names(staff="staff") == [staff.pk]
    assert len(names(staff="community")) == 4
    assert names(channel="slack") == [staff.pk, other_workspace.pk]
    assert names(organization=account.organization_id) == [customer.pk]


def test_the_directory_pages_through_everyone_by_name_with_their_customer_tier(client_for: Any) -> None:
    client = client_for("devrel_member")
    org = AccountFactory(tier="enterprise").organization
    for n in range(55):
        IdentityFactory(member__display_name=f"Person {n:02d}", member__organization=org if n == 53 else None)
    second = client.get(reverse("people:directory"), {"page": "2"})
    assert [m.display_name for m in second.context["page"].object_list] == [f"Person {n}" for n in range(50, 55)]
    assert second.context["page"].paginator.count == 55
    assert second.content.decode().count('class="tag tier-enterprise"') == 1


def test_the_directory_opens_on_the_recently_active_and_sorts_by_each_column(client_for: Any) -> None:
    client = client_for("devrel_member")
    now = timezone.now()
    quiet = MemberFactory(
        display_name="Abe", last_seen=now - dt.timedelta(days=90), first_seen=now - dt.timedelta(days=400)
    )
    never = MemberFactory(display_name="Bea", last_seen=None, first_seen=None)
    busy = MemberFactory(
        display_name="Cy", last_seen=now - dt.timedelta(hours=2), first_seen=now - dt.timedelta(days=20)
    )

    def order(**params: Any) -> list[int]:
        return [m.pk for m in client.get(reverse("people:directory"), params).context["page"].object_list]

    assert order() == [busy.pk, quiet.pk, never.pk]  # never seen goes last, not first
    assert order(sort="name") == [quiet.pk, never.pk, busy.pk]
    assert order(sort="newest") == [busy.pk, quiet.pk, never.pk]
    assert order(sort="oldest") == [quiet.pk, busy.pk, never.pk]
    assert order(sort="bogus") == order()  # an unknown order is the default, not an error
    html = client.get(reverse("people:directory"), {"sort": "name", "q": "a"}).content.decode()
    assert 'aria-sort="ascending"' in html
    assert "?sort=recent&amp;q=a" in html or "?q=a&amp;sort=recent" in html  # the Last seen link keeps the search


def test_each_row_shows_twelve_weeks_of_activity(client_for: Any) -> None:
    client = client_for("devrel_member")
    now = timezone.now()
    identity = IdentityFactory(member__display_name="Ada", member__last_seen=now)
    MessageFactory.create_batch(3, author=identity, created_at=now - dt.timedelta(minutes=5))
    MessageFactory(author=identity, created_at=now - dt.timedelta(weeks=3))
    MessageFactory(author=identity, created_at=now - dt.timedelta(weeks=30))  # outside the window
    response = client.get(reverse("people:directory"))
    (ada,) = response.context["page"].object_list
    counts = [bar["count"] for bar in ada.activity["bars"]]
    assert len(counts) == 12 and sum(counts) == 4
    assert counts[-1] == 3 and counts[-4] == 1
    assert 'aria-label="Messages per week: 4 in 12 weeks"' in response.content.decode()


def test_the_channel_filter_offers_each_channel_kind_once() -> None:
    assert selectors.channel_kinds() == []
    for realm in ("slack:T2", "github", "slack:T1", "irc:libera.chat", "github", "email"):
        IdentityFactory(realm=realm)
    assert selectors.channel_kinds() == ["email", "github", "irc", "slack"]


def test_the_directory_answers_htmx_with_the_rows_only(client_for: Any) -> None:
    client = client_for("devrel_member")
    IdentityFactory(member__display_name="Ada")
    response = client.get(reverse("people:directory"), {"q": "Ada"}, HTTP_HX_REQUEST="true")
    assert b"<table" in response.content and b"<html" not in response.content


def test_the_member_page_loads_their_messages_from_sources(client_for: Any, django_assert_max_num_queries: Any) -> None:
    # people sits below sources: the page names sources' URL for the messages and reads none itself.
    client = client_for("devrel_member")
    member = MemberFactory(display_name="Ana", organization=AccountFactory(tier="business").organization)
    for n, kind in enumerate(["github", "slack", "discourse"]):
        identity = IdentityFactory(member=member, realm=kind)
        MessageFactory(author=identity, source=SourceFactory(name=f"Our {kind}"), url=f"https://{kind}.example/{n}")
    with django_assert_max_num_queries(12):
        response = client.get(member.get_absolute_url())
    html = response.content.decode()
    messages_url = reverse("sources:member-messages", args=[member.pk])
    assert f'hx-get="{messages_url}" hx-trigger="load"' in html
    assert f'<a href="{messages_url}">Read their messages</a>' in html  # without script, a link
    assert "https://github.example/" not in html
    assert b"Business" in response.content


def test_it_merges_and_undoes_through_the_pages(client_for: Any) -> None:
    client = client_for("devrel_member")
    target = IdentityFactory(realm="github", member__display_name="Ana").member
    source = IdentityFactory(realm="slack:T1", handle="anab", member__display_name="ana.b").member
    found = client.get(reverse("people:member-merge", args=[target.pk]), {"q": "anab"}, HTTP_HX_REQUEST="true")
    assert [m.pk for m in found.context["candidates"]] == [source.pk]
    asked = client.post(reverse("people:member-merge", args=[target.pk]), {"other": source.pk})
    assert asked.status_code == 200 and "Merge ana.b into Ana?" in asked.content.decode()
    assert target.identities.count() == 1  # asked, not merged
    response = client.post(reverse("people:member-merge", args=[target.pk]), {"other": source.pk, "confirmed": "yes"})
    assert response.status_code == 302 and target.identities.count() == 2
    record = MergeRecord.objects.get()
    assert client.get(reverse("people:merges")).status_code == 200
    response = client.post(reverse("people:merge-undo", args=[record.pk]))
    assert response["Location"] == reverse("people:member", args=[source.pk])
    assert target.identities.count() == 1


def test_it_splits_through_the_page(client_for: Any) -> None:
    client = client_for("devrel_member")
    member = MemberFactory()
    IdentityFactory(member=member)
    other = IdentityFactory(member=member, realm="slack:T1")
    response = client.post(reverse("people:member-split", args=[member.pk]), {"identities": [other.pk]})
    new = MergeRecord.objects.get().target
    assert response["Location"] == new.get_absolute_url()


def test_curators_accept_and_reject_suggestions(client_for: Any, django_assert_max_num_queries: Any) -> None:
    client = client_for("devrel_member")
    for n in range(3):
        member_for_new_identity(realm="github", external_id=str(n), handle=f"octavia{n}")
        member_for_new_identity(realm="slack:T1", external_id=str(n), handle=f"octavia{n}")
    with django_assert_max_num_queries(12):
        page = client.get(reverse("people:suggestions"))
    assert len(page.context["page"].object_list) == 3
    first, second, _ = MergeSuggestion.objects.order_by("pk")
    asked = client.post(reverse("people:suggestion-accept", args=[first.pk]))
    assert "A same handle is only a hint" in asked.content.decode() and not MergeRecord.objects.exists()
    client.post(reverse("people:suggestion-accept", args=[first.pk]), {"confirmed": "yes"})
    client.post(reverse("people:suggestion-reject", args=[second.pk]))  # keeping apart changes nothing: no question
    assert MergeRecord.objects.get().reason == "same_handle"
    assert MergeSuggestion.objects.get(pk=second.pk).status == "rejected"


def test_a_lead_erases_a_member_after_confirming(client_for: Any) -> None:
    client = client_for("devrel_lead")
    identity = IdentityFactory()
    MessageFactory.create_batch(2, author=identity)
    url = reverse("people:member-erase", args=[identity.member_id])
    refused = client.post(url, {"reason": "ticket 9", "confirm": "yes"})
    assert refused.status_code == 200 and Member.objects.exists()
    response = client.post(url, {"reason": "ticket 9", "confirm": "ERASE"})
    assert response["Location"] == reverse("people:erasures")
    assert not Member.objects.exists() and not Message.objects.exists()
    assert ErasureRecord.objects.get().message_count == 2
    assert ErasureRecord.objects.get().removed == {"messages": 2, "suppressed keys": 1}


def test_a_lead_downloads_a_members_export(client_for: Any) -> None:
    client = client_for("devrel_lead")
    identity = IdentityFactory(handle="ana")
    MessageFactory(author=identity)
    url = reverse("people:member-export", args=[identity.member_id])
    assert b"Download JSON" in client.get(url).content
    response = client.post(url)
    assert response["Content-Disposition"] == f'attachment; filename="townsquare-member-{identity.member_id}.json"'
    assert len(json.loads(response.content)["messages"]) == 1


def test_devrel_members_cannot_erase_or_export(client_for: Any) -> None:
    client = client_for("devrel_member")
    member = IdentityFactory().member
    assert client.post(reverse("people:member-erase", args=[member.pk])).status_code == 403
    assert client.post(reverse("people:member-export", args=[member.pk])).status_code == 403


def test_it_imports_a_crm_csv_through_the_preview(client_for: Any) -> None:
    client = client_for("devrel_lead")
    csv_text = "Key,Org,Site,Level,Money\nK1,Acme Rockets,acmerockets.io,Enterprise,5M\nK2,Bad,bad.io,Gold,1\n"
    upload = io.BytesIO(csv_text.encode())
    upload.name = "export.csv"
    preview = client.post(reverse("people:accounts-import"), {"file": upload})
    assert preview.status_code == 200
    token = preview.context["token"]
    # "Key", "Org", "Level" and "Money" are not common header names: map them by hand.
    form = {
        "token": token,
        "filename": "export.csv",
        "col_crm_id": "Key",
        "col_name": "Org",
        "col_domains": "Site",
        "col_tier": "Level",
        "col_annual_revenue": "Money",
        "action": "preview",
    }
    preview = client.post(reverse("people:accounts-import"), form)
    report = preview.context["report"]
    assert (report.created, [e.line for e in report.errors]) == (1, [3])
    assert "unknown tier" in preview.content.decode() and not Account.objects.exists()
    done = client.post(reverse("people:accounts-import"), {**form, "action": "import"})
    assert done.context["done"] is True
    assert Account.objects.get().annual_revenue == 5_000_000
    assert client.get(reverse("people:accounts")).context["page"].object_list[0].crm_id == "K1"


def test_organisations_and_accounts_are_readable_by_stakeholders(
    client_for: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_for("stakeholder_member")
    account = AccountFactory()
    for _ in range(3):
        IdentityFactory(member__organization=account.organization)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("people:organizations")).status_code == 200
    with django_assert_max_num_queries(12):
        detail = client.get(reverse("people:organization", args=[account.organization_id]))
    assert detail.context["page"].paginator.count == 3
    assert b'href="/people/members/' not in detail.content  # names only, no member pages for stakeholders
    assert client.get(reverse("people:accounts")).status_code == 200
    assert client.get(reverse("people:directory")).status_code == 403


def test_every_people_view_declares_its_roles() -> None:
    expected = {
        views.directory: roles.DEVREL,
        views.member: roles.DEVREL,
        views.member_merge: roles.DEVREL,
        views.member_split: roles.DEVREL,
        views.merges: roles.DEVREL,
        views.merge_undo: roles.DEVREL,
        views.suggestions: roles.DEVREL,
        views.suggestion_decide: roles.DEVREL,
        views.member_erase: roles.LEADS,
        views.member_export: roles.LEADS,
        views.erasures: roles.LEADS,
        views.organizations: roles.READERS,
        views.organization: roles.READERS,
        views.accounts: roles.READERS,
        views.accounts_import: roles.LEADS,
    }
    assert {view: view.allowed_roles for view in expected} == expected


def test_activity_segments_find_newcomers_the_active_the_drifting_and_the_dormant(client_for: Any) -> None:
    client = client_for("devrel_member")
    now = timezone.now()
    days = dt.timedelta(days=1)
    newcomer = MemberFactory(display_name="New", first_seen=now - 5 * days, last_seen=now - 1 * days)
    regular = MemberFactory(display_name="Regular", first_seen=now - 400 * days, last_seen=now - 2 * days)
    drifting = MemberFactory(display_name="Drifting", first_seen=now - 300 * days, last_seen=now - 120 * days)
    dormant = MemberFactory(display_name="Dormant", first_seen=now - 900 * days, last_seen=now - 400 * days)
    MemberFactory(display_name="Never seen", first_seen=None, last_seen=None)

    def names(activity: str) -> set[str]:
        page = client.get(reverse("people:directory"), {"activity": activity}).context["page"]
        return {m.display_name for m in page.object_list}

    assert names("newcomers") == {newcomer.display_name}
    assert names("active") == {newcomer.display_name, regular.display_name}
    assert names("drifting") == {drifting.display_name}
    assert names("dormant") == {dormant.display_name}


def test_a_view_is_saved_as_a_segment_shared_or_private_and_deleted_after_asking(make_user: Any) -> None:
    ari, dana = Client(), Client()
    ari.force_login(make_user("devrel_member", username="ari"))
    dana.force_login(make_user("devrel_member", username="dana"))
    query = "tier=enterprise&activity=active&page=3&bogus=1"
    response = ari.post(reverse("people:segment-save"), {"name": "Active enterprise", "query": query, "shared": "on"})
    segment = Segment.objects.get()
    assert segment.query == "tier=enterprise&activity=active"  # what the directory knows, in its own order
    assert response["Location"] == "/people/?tier=enterprise&activity=active"
    ari.post(reverse("people:segment-save"), {"name": "Mine", "query": "staff=community"})
    again = ari.post(reverse("people:segment-save"), {"name": "active ENTERPRISE", "query": "tier=team"}, follow=True)
    assert "exists already" in again.content.decode() and Segment.objects.count() == 2

    shown = [s.name for s in dana.get(reverse("people:directory")).context["segments"]]
    assert shown == ["Active enterprise"]  # Ari's private segment is Ari's alone
    page = dana.get(segment.get_absolute_url()).content.decode()
    assert 'aria-current="true"' in page.split("Saved segments", 1)[1].split("</nav>", 1)[0]
    assert dana.post(reverse("people:segment-delete", args=[segment.pk])).status_code == 403  # not hers

    asked = ari.post(reverse("people:segment-delete", args=[segment.pk]))
    assert "Delete the segment" in asked.content.decode() and Segment.objects.filter(pk=segment.pk).exists()
    ari.post(reverse("people:segment-delete", args=[segment.pk]), {"confirmed": "yes"})
    assert not Segment.objects.filter(pk=segment.pk).exists()


def test_the_directory_exports_its_filtered_view_as_csv_safe_for_spreadsheets(client_for: Any) -> None:
    client = client_for("devrel_member")
    account = AccountFactory(tier="enterprise", organization__name="Quillmoor")
    hostile = IdentityFactory(handle="=cmd|' /C calc'!A0", member__display_name='=HYPERLINK("x")')
    hostile.member.organization = account.organization
    hostile.member.save()
    MessageFactory.create_batch(2, author=hostile)
    IdentityFactory(member__display_name="Not a customer")
    response = client.get(reverse("people:directory-export"), {"tier": "enterprise"})
    assert response["Content-Type"].startswith("text/csv") and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:2] == ["member id", "name"] and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["name"] == '\'=HYPERLINK("x")' and row["handles"].startswith("'=cmd")
    assert row["organisation"] == "Quillmoor" and row["customer tier"] == "Enterprise" and row["messages"] == "2"
    assert client_for("stakeholder_member").get(reverse("people:directory-export")).status_code == 403
