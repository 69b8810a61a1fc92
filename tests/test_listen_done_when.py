"""Issue 4 ("Listen"), done when: one person's messages from three channels on one member page, each linking
back to its origin and shown once, and after a CRM CSV import, that person shown as a paying customer's.

Everything goes through what a user touches: a source added on the sources page, archives imported with
``townsquare import KIND PATH``, a merge suggestion accepted on the suggestions page, accounts imported with
``townsquare accounts import CSV``, and the people pages read by a logged-in user of the right role.

The person is "jeff" of the real Houston DataVis Slack export that ships as demo data (work address
jeff@januaryadvisors.com). The Zulip and GitHub Discussions archives are written here in the formats of the
connector fixtures: on Zulip he uses the same address (the platforms vouch for both, so the identities merge by
themselves), on GitHub he is the login ``jeff`` (the same handle: a suggestion a curator accepts).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command
from django.urls import reverse

from townsquare.people.models import Identity, MergeRecord, MergeSuggestion
from townsquare.sources.models import Message, Source

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
SLACK_DEMO = ROOT / "townsquare" / "sources" / "demo_data" / "slack" / "houstondatavis-slack-export-2016-07-31.zip"
SLACK_NAME = "Houston DataVis Slack"
SLACK_URL = "https://houstondatavis.slack.com"
ZULIP_URL = "https://datavis.zulipchat.com"
JEFF_EMAIL = "jeff@januaryadvisors.com"

CRM_CSV = """Account ID,Account Name,Website,Customer Tier,Annual Revenue,Account Owner
0015000001,January Advisors,https://www.januaryadvisors.com,Enterprise,"$480,000",sofia@example.com
0015000002,Intentive,intentive.info,Startup,25000,noor@example.com
0015000003,Brightlattice Systems,brightlattice.io,Business,1.2M,sofia@example.com
"""


def write_zulip_export(folder: Path) -> Path:
    folder.mkdir()
    (folder / "realm.json").write_text(
        json.dumps(
            {
                "zerver_realm": [{"id": 1, "string_id": "datavis", "name": "DataVis", "uri": ZULIP_URL}],
                "zerver_userprofile": [
                    {
                        "id": 21,
                        "full_name": "Jeff",
                        "email": "user21@datavis.zulipchat.com",
                        "delivery_email": JEFF_EMAIL,
                        "is_bot": False,
                    },
                    {
                        "id": 22,
                        "full_name": "Ana Lima",
                        "email": "user22@datavis.zulipchat.com",
                        "delivery_email": "ana@example.org",
                        "is_bot": False,
                    },
                ],
                "zerver_stream": [{"id": 3, "name": "maps", "realm": 1}],
                "zerver_recipient": [{"id": 100, "type": 2, "type_id": 3}],
            }
        )
    )
    (folder / "messages-000001.json").write_text(
        json.dumps(
            {
                "zerver_message": [
                    {
                        "id": 901,
                        "sender": 21,
                        "recipient": 100,
                        "subject": "census tracts",
                        "content": "Which census tract shapefiles do you use for Harris County?",
                        "rendered_content": "<p>Which census tract shapefiles do you use for Harris County?</p>",
                        "date_sent": 1470000000.0,
                    },
                    {
                        "id": 902,
                        "sender": 22,
                        "recipient": 100,
                        "subject": "census tracts",
                        "content": "The 2010 TIGER ones.",
                        "rendered_content": "<p>The 2010 TIGER ones.</p>",
                        "date_sent": 1470000100.0,
                    },
                    {
                        "id": 903,
                        "sender": 21,
                        "recipient": 100,
                        "subject": "census tracts",
                        "content": "Thanks, those load fine in the **map** widget.",
                        "rendered_content": "<p>Thanks, those load fine in the <strong>map</strong> widget.</p>",
                        "date_sent": 1470000200.0,
                    },
                ],
                "zerver_usermessage": [],
            }
        )
    )
    return folder


def write_discussions(path: Path) -> Path:
    base = "https://github.com/houstondatavis/meetup/discussions/7"
    path.write_text(
        json.dumps(
            {
                "data": {
                    "repository": {
                        "nameWithOwner": "houstondatavis/meetup",
                        "discussions": {
                            "pageInfo": {"hasNextPage": False, "endCursor": None},
                            "nodes": [
                                {
                                    "id": "D_kwDOJ7",
                                    "number": 7,
                                    "title": "Share the flood map notebook?",
                                    "body": "It was a great talk.",
                                    "url": base,
                                    "createdAt": "2016-08-02T15:00:00Z",
                                    "updatedAt": "2016-08-02T15:00:00Z",
                                    "author": {"login": "jeff", "databaseId": 40001, "__typename": "User"},
                                    "category": {"name": "Q&A", "isAnswerable": True},
                                    "answer": None,
                                    "comments": {
                                        "nodes": [
                                            {
                                                "id": "DC_kwDOJ8",
                                                "body": "Posted it in the repo.",
                                                "url": f"{base}#discussioncomment-8",
                                                "createdAt": "2016-08-02T16:00:00Z",
                                                "updatedAt": "2016-08-02T16:00:00Z",
                                                "author": {
                                                    "login": "micahstubbs",
                                                    "databaseId": 40002,
                                                    "__typename": "User",
                                                },
                                                "replies": {
                                                    "nodes": [
                                                        {
                                                            "id": "DC_kwDOJ9",
                                                            "body": "Found it, thanks!",
                                                            "url": f"{base}#discussioncomment-9",
                                                            "createdAt": "2016-08-02T17:00:00Z",
                                                            "updatedAt": "2016-08-02T17:00:00Z",
                                                            "author": {
                                                                "login": "jeff",
                                                                "databaseId": 40001,
                                                                "__typename": "User",
                                                            },
                                                        }
                                                    ]
                                                },
                                            }
                                        ]
                                    },
                                }
                            ],
                        },
                    }
                }
            }
        )
    )
    return path


def import_all(zulip: Path, discussions: Path) -> list[str]:
    outputs = []
    for kind, path, name in (
        ("slack_export", SLACK_DEMO, SLACK_NAME),
        ("zulip_export", zulip, "DataVis Zulip"),
        ("github_discussions", discussions, "Meetup discussions"),
    ):
        out = io.StringIO()
        call_command("import", kind, str(path), "--name", name, stdout=out)
        outputs.append(out.getvalue())
    return outputs


def page(client: Any, url: str, **params: str) -> BeautifulSoup:
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return BeautifulSoup(response.content, "html.parser")


def jeff_member_id() -> int:
    member_ids = set(Identity.objects.filter(handle="jeff").values_list("member_id", flat=True))
    assert len(member_ids) == 1, member_ids
    return member_ids.pop()


def test_one_person_from_three_channels_on_one_page_then_seen_as_a_paying_customer(
    client_for: Any, make_user: Any, client: Any, tmp_path: Path
) -> None:
    lead = client_for("devrel_lead")

    # A source added through the UI, so its messages link back to the Slack workspace.
    response = lead.post(
        reverse("sources:source-add"),
        {
            "name": SLACK_NAME,
            "kind": "slack_export",
            "workspace_url": SLACK_URL,
            "schedule_every": "",
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]

    # Three archives through the CLI, into that source and two new ones.
    zulip = write_zulip_export(tmp_path / "zulip")
    discussions = write_discussions(tmp_path / "discussions.json")
    outputs = import_all(zulip, discussions)
    assert "Created source 'DataVis Zulip'" in outputs[1]
    assert Source.objects.filter(name=SLACK_NAME).count() == 1

    # Slack and Zulip both vouch for jeff@januaryadvisors.com: one member, merged by email, undoable.
    slack_jeff = Identity.objects.get(realm__startswith="slack:", handle="jeff")
    zulip_jeff = Identity.objects.get(realm="zulip:datavis", email=JEFF_EMAIL)
    assert slack_jeff.member_id == zulip_jeff.member_id
    assert MergeRecord.objects.filter(reason=MergeRecord.Reason.SAME_EMAIL, target_id=slack_jeff.member_id).exists()

    # GitHub's "jeff" is only a suggestion; the curator accepts it on the suggestions page.
    github_jeff = Identity.objects.get(realm="github", handle="jeff")
    assert github_jeff.member_id != slack_jeff.member_id
    suggestions = page(lead, reverse("people:suggestions"))
    items = [li for li in suggestions.select("li.panel") if "same handle “jeff”" in li.get_text()]
    assert len(items) == 1
    accept = items[0].find("form", action=lambda a: a and a.endswith("/accept/"))["action"]
    response = lead.post(accept, {"confirmed": "yes"})  # the confirmation (tested in people) answered
    assert response.status_code == 302
    # The other same-handle pair (micahstubbs) is left for its own decision.
    assert (
        MergeSuggestion.objects.filter(status=MergeSuggestion.Status.OPEN, reason__contains="micahstubbs").count() == 1
    )
    member_id = jeff_member_id()
    assert member_id == slack_jeff.member_id  # the older member keeps the merged identities
    assert MergeRecord.objects.filter(reason=MergeRecord.Reason.SAME_HANDLE, target_id=member_id).exists()
    assert {i.realm.split(":")[0] for i in Identity.objects.filter(member_id=member_id)} == {"slack", "zulip", "github"}

    # Re-running every import adds nothing: each message is stored, and shown, once.
    expected = list(Message.objects.filter(author__member_id=member_id).values_list("url", "source__name"))
    import_all(zulip, discussions)
    assert Message.objects.filter(author__member_id=member_id).count() == len(expected)
    by_source: dict[str, int] = {}
    for _url, source_name in expected:
        by_source[source_name] = by_source.get(source_name, 0) + 1
    # jeff's six messages in the Slack export, his two on Zulip, his discussion and his reply on GitHub.
    assert by_source == {SLACK_NAME: 6, "DataVis Zulip": 2, "Meetup discussions": 2}

    # The member page: three channels' identities, every message once, each linking back to its origin.
    member_url = reverse("people:member", args=[member_id])
    member_page = page(lead, member_url)
    identities = next(s for s in member_page.select("section.panel") if s.h2.get_text() == "Identities")
    realms = {td.get_text(strip=True) for td in identities.select("tbody tr td:first-child")}
    assert {r.split(":")[0] for r in realms} == {"slack", "zulip", "github"}
    # The messages are sources': the member page loads them from the URL it names.
    messages_url = reverse("sources:member-messages", args=[member_id])
    assert member_page.select_one("#member-messages")["hx-get"] == messages_url
    messages_section = page(lead, messages_url)
    assert len(expected) <= 30, "all on the first page"
    shown = messages_section.select("ol.people-message-list > li")
    assert len(shown) == len(expected)
    originals = [
        a["href"] for a in messages_section.select("ol.people-message-list a") if a.get_text() == "view original"
    ]
    assert sorted(originals) == sorted(url for url, _name in expected)
    assert len(set(originals)) == len(originals)
    assert all(url.startswith(f"{SLACK_URL}/archives/") for url, name in expected if name == SLACK_NAME)
    assert {url for url, name in expected if name == "DataVis Zulip"} == {
        f"{ZULIP_URL}/#narrow/channel/3-maps/topic/census%20tracts/near/901",
        f"{ZULIP_URL}/#narrow/channel/3-maps/topic/census%20tracts/near/903",
    }
    assert {url for url, name in expected if name == "Meetup discussions"} == {
        "https://github.com/houstondatavis/meetup/discussions/7",
        "https://github.com/houstondatavis/meetup/discussions/7#discussioncomment-9",
    }
    sources_shown = {tag.get_text(strip=True) for tag in messages_section.select("ol.people-message-list .channel-tag")}
    assert sources_shown == {SLACK_NAME, "DataVis Zulip", "Meetup discussions"}
    counts = messages_section.select_one(".member-message-counts").get_text(" ", strip=True)
    assert f"{len(expected)} messages ({by_source[SLACK_NAME]} on {SLACK_NAME}, " in counts
    assert "2 on DataVis Zulip" in counts and "2 on Meetup discussions" in counts
    facts = member_page.select_one("dl.facts").get_text(" ", strip=True)
    assert "Customer tier Not a customer" in facts

    # The CRM export through the CLI (a dry run first changes nothing).
    csv_path = tmp_path / "accounts.csv"
    csv_path.write_text(CRM_CSV)
    call_command("accounts", "import", str(csv_path), "--dry-run", stdout=io.StringIO())
    assert "Not a customer" in page(lead, member_url).select_one("dl.facts").get_text()
    out = io.StringIO()
    call_command("accounts", "import", str(csv_path), stdout=out)
    assert "Created 3" in out.getvalue()

    # Member page: his organisation is an Enterprise customer, with its owner in sales.
    facts = page(lead, member_url).select_one("dl.facts").get_text(" ", strip=True)
    assert "Customer tier Enterprise" in facts
    assert "Account owner sofia@example.com" in facts

    # Directory: the Enterprise filter finds exactly him (Intentive's people are a Startup customer).
    enterprise = page(lead, reverse("people:directory"), tier="enterprise")
    rows = enterprise.select("#people-rows tbody tr")
    assert [row.select_one("td a")["href"] for row in rows] == [member_url]
    assert rows[0].select_one(".tag").get_text(strip=True) == "Enterprise"
    assert {tag.get_text(strip=True) for tag in rows[0].select(".channel-tag")} == {"slack", "zulip", "github"}
    assert rows[0].select_one("td.num").get_text(strip=True) == str(len(expected))
    customers = page(lead, reverse("people:directory"), tier="customer")
    tiers = {
        row.select_one("td a")["href"]: row.select_one(".tag").get_text(strip=True)
        for row in customers.select("#people-rows tbody tr")
    }
    intentive = Identity.objects.filter(handle__in=["micahstubbs", "javier"], realm__startswith="slack:")
    assert tiers == {
        member_url: "Enterprise",
        **{reverse("people:member", args=[i.member_id]): "Startup" for i in intentive},
    }
    assert len(tiers) == 3

    # A salesperson (a stakeholder, no access to people's messages) sees him on the customer's page.
    sales = make_user("stakeholder_member", team="Sales")
    client.force_login(sales)
    jeff = Identity.objects.get(pk=slack_jeff.pk).member
    org_page = page(client, reverse("people:organization", args=[jeff.organization_id]))
    assert org_page.select_one("h1 .tag").get_text(strip=True) == "Enterprise"
    assert "January Advisors" in org_page.select_one("section.panel").get_text()
    people = [row.select_one("td").get_text(strip=True) for row in org_page.select("table tbody tr")]
    assert people == [jeff.display_name]
    assert client.get(member_url).status_code in (403, 404)
    accounts = page(client, reverse("people:accounts"), tier="enterprise")
    rows = accounts.select("tbody tr")
    assert len(rows) == 1 and "January Advisors" in rows[0].select_one("td").get_text()
    assert rows[0].select("td")[-1].get_text(strip=True) == "1"  # community members at this customer
