"""Issues, sections and DevRel's review through the services; the DevRel-share series."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from townsquare.core.errors import TownsquareError
from townsquare.updates.models import Newsletter, ReviewComment, SectionRevision
from townsquare.updates.selectors import newsletter as selectors
from townsquare.updates.services import newsletter as services

pytestmark = pytest.mark.django_db


def issue(by: Any, title: str = "November issue", end: dt.date | None = None) -> Newsletter:
    end = end or timezone.localdate()
    return services.newsletter_create(title=title, period_start=end - dt.timedelta(days=30), period_end=end, by=by)


def test_the_marketer_is_a_stakeholder_of_a_marketing_team(
    marketer: Any, seller: Any, devrel: Any, executive: Any
) -> None:
    assert selectors.is_marketer(marketer) is True
    assert [selectors.is_marketer(u) for u in (seller, devrel, executive)] == [False, False, False]


@pytest.mark.parametrize("who", ["seller", "devrel", "executive"])
def test_only_the_marketer_writes_an_issue(request: Any, marketer: Any, who: str) -> None:
    other = request.getfixturevalue(who)
    with pytest.raises(TownsquareError, match="only the community marketer"):
        issue(other)
    newsletter = issue(marketer)
    with pytest.raises(TownsquareError, match="only the community marketer"):
        services.section_add(newsletter=newsletter, heading="Mine now", by=other)


def test_a_period_that_ends_before_it_starts_is_refused(marketer: Any) -> None:
    with pytest.raises(TownsquareError, match="ends before it starts"):
        services.newsletter_create(
            title="Backwards", period_start=dt.date(2026, 5, 2), period_end=dt.date(2026, 5, 1), by=marketer
        )


def test_sections_are_added_reordered_and_edited_with_history(marketer: Any) -> None:
    newsletter = issue(marketer)
    a = services.section_add(newsletter=newsletter, heading="First", body="one", by=marketer)
    b = services.section_add(newsletter=newsletter, heading="Second", body="two", by=marketer)
    c = services.section_add(newsletter=newsletter, heading="Third", body="three", by=marketer)
    services.section_move(section=c, offset=-1, by=marketer)
    services.section_move(section=c, offset=-1, by=marketer)
    services.section_move(section=a, offset=5, by=marketer)
    assert [s.heading for s in selectors.newsletter_sections(newsletter)] == ["Third", "Second", "First"]
    services.section_edit(section=b, heading="Second", body="two, and more", by=marketer)
    edit = SectionRevision.objects.filter(action=SectionRevision.Action.EDITED).get()
    assert (edit.author, edit.by_devrel, edit.chars_written) == (marketer, False, len(", and more"))
    services.section_remove(section=a, by=marketer)
    assert [s.heading for s in selectors.newsletter_sections(newsletter)] == ["Third", "Second"]
    assert SectionRevision.objects.filter(newsletter=newsletter).count() == 5


def test_a_source_is_used_once_per_issue(marketer: Any) -> None:
    newsletter = issue(marketer)
    services.section_add(newsletter=newsletter, heading="Link", source_key="link:1", by=marketer)
    with pytest.raises(TownsquareError, match="already a section of this issue"):
        services.section_add(newsletter=newsletter, heading="Link again", source_key="link:1", by=marketer)


def test_the_review_loop_records_who_wrote_what(marketer: Any, devrel: Any) -> None:
    newsletter = issue(marketer)
    with pytest.raises(TownsquareError, match="add at least one section"):
        services.newsletter_request_review(newsletter=newsletter, by=marketer)
    section = services.section_add(newsletter=newsletter, heading="Kafka guide", body="Read it.", by=marketer)
    with pytest.raises(TownsquareError, match="not waiting for review"):
        services.review_decide(newsletter=newsletter, approve=True, body="", by=devrel)
    services.newsletter_request_review(newsletter=newsletter, by=marketer)
    with pytest.raises(TownsquareError, match="only DevRel reviews"):
        services.review_comment(newsletter=newsletter, section=section, body="self-review", by=marketer)
    suggestion = services.review_comment(
        newsletter=newsletter,
        section=section,
        body="Mention the sample repo instead: it is what people ask for.",
        suggested_body="Read it, then clone the sample repo.",
        by=devrel,
    )
    assert suggestion.kind == ReviewComment.Kind.SUGGESTION
    changes = services.review_decide(newsletter=newsletter, approve=False, body="See my suggestion.", by=devrel)
    assert changes.kind == ReviewComment.Kind.CHANGES
    newsletter.refresh_from_db()
    assert newsletter.status == Newsletter.Status.CHANGES_REQUESTED
    with pytest.raises(TownsquareError, match="only the community marketer"):
        services.suggestion_accept(comment=suggestion, by=devrel)
    services.suggestion_accept(comment=suggestion, by=marketer)
    section.refresh_from_db()
    assert section.body == "Read it, then clone the sample repo."
    accepted = SectionRevision.objects.get(action=SectionRevision.Action.SUGGESTION_ACCEPTED)
    assert (accepted.author, accepted.by_devrel) == (devrel, True)
    with pytest.raises(TownsquareError, match="is not an open suggestion"):
        services.suggestion_accept(comment=suggestion, by=marketer)
    services.newsletter_request_review(newsletter=newsletter, by=marketer)
    services.review_decide(newsletter=newsletter, approve=True, body="", by=devrel)
    newsletter.refresh_from_db()
    assert (newsletter.status, newsletter.decided_by) == (Newsletter.Status.APPROVED, devrel)
    # A change after approval sends the issue back to draft: DevRel approved the text it saw.
    services.section_edit(section=section, heading="Kafka guide", body="Changed after approval.", by=marketer)
    newsletter.refresh_from_db()
    assert (newsletter.status, newsletter.decided_by) == (Newsletter.Status.DRAFT, None)


def test_a_change_request_needs_a_reason(marketer: Any, devrel: Any) -> None:
    newsletter = issue(marketer)
    services.section_add(newsletter=newsletter, heading="A", by=marketer)
    services.newsletter_request_review(newsletter=newsletter, by=marketer)
    with pytest.raises(TownsquareError, match="say which changes"):
        services.review_decide(newsletter=newsletter, approve=False, body=" ", by=devrel)


def test_the_devrel_share_falls_as_the_marketer_writes_more(marketer: Any, devrel: Any) -> None:
    today = timezone.localdate()
    shares = []
    for months_ago, devrel_text in ((2, "D" * 80), (1, "D" * 30), (0, "")):
        newsletter = issue(marketer, title=f"Issue -{months_ago}", end=today - dt.timedelta(days=31 * months_ago))
        section = services.section_add(newsletter=newsletter, heading="H", body="m" * 20, by=marketer)
        if devrel_text:
            comment = services.review_comment(
                newsletter=newsletter, section=section, body="try", suggested_body="m" * 20 + devrel_text, by=devrel
            )
            services.suggestion_accept(comment=comment, by=marketer)
    for row in selectors.devrel_text_share():
        shares.append((row.title, row.devrel_chars, row.total_chars, row.percent))
    assert shares == [("Issue -2", 80, 102, 78), ("Issue -1", 30, 52, 58), ("Issue -0", 0, 22, 0)]
    recent = selectors.devrel_text_share(since=today - dt.timedelta(days=40))
    assert [row.title for row in recent] == ["Issue -1", "Issue -0"]
