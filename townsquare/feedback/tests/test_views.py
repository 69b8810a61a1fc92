from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from townsquare.feedback.models import CurationAction, Theme, ThemeMessage
from townsquare.feedback.tests.factories import MessageFactory
from townsquare.feedback.tests.support import feedback_workspace

pytestmark = pytest.mark.django_db


def test_the_inbox_ranks_themes_by_score_for_readers(client_for: Any) -> None:
    ws = feedback_workspace()
    client = client_for("stakeholder_member")
    response = client.get(reverse("feedback:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert ws["export"].title in html and ws["dark"].title in html
    scores = [t.score for t in response.context["themes"]]
    assert scores == sorted(scores, reverse=True)
    assert "Merge selected" not in html  # readers do not curate


def test_the_theme_page_shows_people_customers_channels_and_sources(client_for: Any) -> None:
    ws = feedback_workspace()
    response = client_for("devrel_member").get(reverse("feedback:theme", args=[ws["export"].pk]))
    assert response.status_code == 200
    stats = response.context["stats"]
    assert (stats.people, stats.customers, stats.channels) == (3, 1, 3)
    html = response.content.decode()
    assert ws["messages"]["export"][0].url in html
    # The score's formula is shown with this theme's own numbers, and they multiply out to its score.
    theme = Theme.objects.get(pk=ws["export"].pk)
    p = theme.score_parts
    formula = re.search(
        r'id="fb-formula">\(people ([\d.]+) \+ customers ([\d.]+) \+ revenue ([\d.]+)\) × channels ([\d.]+) '
        r"× recency ([\d.]+) × trend ([\d.]+) = ([\d.]+)",
        html,
    )
    assert formula, "score formula missing"
    people, customers, revenue, channels, recency, trend, score = map(float, formula.groups())
    assert (people, channels) == (round(p["people"], 1), round(p["channel_factor"], 2))
    assert score == round(theme.score, 1)
    assert abs((people + customers + revenue) * channels * recency * trend - score) <= 0.05 * max(score, 1)


def test_a_curator_merges_two_themes_from_the_inbox(client_for: Any) -> None:
    ws = feedback_workspace()
    client = client_for("devrel_member")
    # Without a choice, the curator is asked which theme survives (the highest-scored one is preselected).
    asked = client.post(reverse("feedback:merge"), {"themes": [ws["export"].pk, ws["twin"].pk]})
    assert asked.status_code == 200 and "Which theme survives?" in asked.content.decode()
    assert not Theme.objects.filter(status="merged").exists()
    keep = min((ws["export"], ws["twin"]), key=lambda t: t.score)  # the lower-scored one, so the choice shows
    data = {"themes": [ws["export"].pk, ws["twin"].pk], "target": keep.pk}
    assert client.post(reverse("feedback:merge"), data).status_code == 302
    merged = {ws["export"].pk, ws["twin"].pk}
    target = Theme.objects.filter(pk__in=merged).exclude(status="merged").get()
    assert target.pk == keep.pk
    assert ThemeMessage.objects.filter(theme=target).count() == 5
    assert CurationAction.objects.get(action="merge").by == client.user


def test_stakeholders_cannot_curate(client_for: Any) -> None:
    ws = feedback_workspace()
    client = client_for("stakeholder_lead")
    assert client.post(reverse("feedback:merge"), {"themes": [ws["export"].pk, ws["twin"].pk]}).status_code == 403
    url = reverse("feedback:theme-action", args=[ws["export"].pk, "rename"])
    assert client.post(url, {"title": "x"}).status_code == 403
    assert client.post(reverse("feedback:weights"), {"person": 3}).status_code == 403


def test_curation_forms_rename_route_and_split(client_for: Any) -> None:
    ws = feedback_workspace()
    client = client_for("devrel_member")
    theme = ws["export"]
    client.post(reverse("feedback:theme-action", args=[theme.pk, "rename"]), {"title": "CSV export loses rows"})
    client.post(
        reverse("feedback:theme-action", args=[theme.pk, "issue"]),
        {"issue_url": "https://github.com/acme/app/issues/7"},
    )
    moved = ws["messages"]["export"][2]
    response = client.post(
        reverse("feedback:theme-action", args=[theme.pk, "split"]), {"messages": [moved.pk], "title": "Quotes"}
    )
    assert response.status_code == 302
    theme.refresh_from_db()
    assert theme.title == "CSV export loses rows" and theme.issue_url.endswith("/7")
    assert Theme.objects.get(title="Quotes").assignments.get().message_id == moved.pk


def test_it_escapes_community_text_everywhere(client_for: Any) -> None:
    ws = feedback_workspace()
    hostile = MessageFactory(
        title="<script>alert(1)</script>",
        body="<img src=x onerror=alert(2)>",
        body_html="<p>ok</p><script>alert(3)</script>",
    )
    ThemeMessage.objects.create(theme=ws["export"], message=hostile, similarity=1.0)
    client = client_for("devrel_member")
    html = client.get(reverse("feedback:theme", args=[ws["export"].pk])).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    html = client.get(reverse("feedback:search"), {"q": "script"}).content.decode()
    assert "<script>alert" not in html


def test_search_and_more_like_this_cross_channels(client_for: Any) -> None:
    ws = feedback_workspace()
    client = client_for("executive")
    response = client.get(reverse("feedback:search"), {"q": "csv comma"})
    assert {m.pk for m, _ in response.context["results"]} >= {m.pk for m in ws["messages"]["export"][:2]}
    anchor = ws["messages"]["export"][0]
    response = client.get(reverse("feedback:search"), {"like": anchor.pk})
    found = [m for m, _ in response.context["results"]]
    assert found and found[0].body.lower().count("csv") and anchor not in found


def test_the_lead_sets_score_weights(client_for: Any) -> None:
    feedback_workspace()
    client = client_for("devrel_lead")
    data = {
        name: 1.0
        for name in (
            "person",
            "tier_enterprise",
            "tier_business",
            "tier_team",
            "tier_startup",
            "tier_free",
            "revenue",
            "channel",
            "half_life_days",
            "trend",
        )
    }
    assert client.post(reverse("feedback:weights"), data).status_code == 302
    assert CurationAction.objects.filter(action="weights").exists()
    assert "log10" in client.get(reverse("feedback:weights")).content.decode()


def test_a_member_page_lists_the_themes_their_messages_are_in(client_for: Any) -> None:
    ana = MessageFactory().author
    other = MessageFactory().author
    busy = Theme.objects.create(title="CSV <export> drops rows", status=Theme.Status.OPEN, people_count=4)
    once = Theme.objects.create(title="Dark mode", status=Theme.Status.NEW, people_count=2)
    gone = Theme.objects.create(title="Merged away", status=Theme.Status.MERGED)
    for theme, author in ((busy, ana), (busy, ana), (once, ana), (gone, ana), (once, other)):
        ThemeMessage.objects.create(theme=theme, message=MessageFactory(author=author))
    url = reverse("feedback:member-themes", args=[ana.member_id])

    html = client_for("devrel_member").get(url, HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith('<section class="panel member-themes"')  # the section only, for the page
    titles = re.findall(r'href="/feedback/themes/\d+/">([^<]*)</a>', html)
    assert titles == ["CSV &lt;export&gt; drops rows", "Dark mode"]  # most of theirs first; merged left out
    assert '<td class="num">2</td><td class="num">4</td>' in html
    assert "<html" in client_for("devrel_member").get(url).content.decode()  # without htmx: a page of its own
    assert client_for("stakeholder_member").get(url).status_code == 403
    empty = client_for("devrel_member").get(reverse("feedback:member-themes", args=[999999])).content.decode()
    assert "None of their messages is in a feedback theme" in empty
