"""Demo data for the newsletter: a few dropped links and two reviewed issues, the later one written
more by the marketer (the DevRel share falls). Loading it twice changes nothing."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from townsquare.updates.models import DroppedLink, Newsletter
from townsquare.updates.services import newsletter as services

LINKS = [
    (
        "sam",
        "https://blog.example.com/posts/kafka-connector-in-ten-minutes",
        "Support sends this to every new Kafka user",
    ),
    ("eli", "https://github.com/acme/acme-sdk/releases/tag/v2.0.0", "SDK 2.0: streaming uploads, finally"),
    (
        "sofia",
        "https://www.youtube.com/watch?v=acme-observability-talk",
        "A customer's talk about our observability stack",
    ),
    ("mia", "https://dev.example.org/community/meetups/lisbon", "Lisbon meetup recap, with photos"),
]


def _users() -> dict[str, User]:
    return {u.username: u for u in User.objects.filter(username__in=["mia", "ari", "sam", "eli", "sofia"])}


@transaction.atomic
def newsletter_demo_load() -> dict[str, int]:
    users = _users()
    if not {"mia", "ari"} <= users.keys() or Newsletter.objects.exists():
        return {"links": DroppedLink.objects.count(), "newsletters": Newsletter.objects.count()}
    mia, ari = users["mia"], users["ari"]
    today = timezone.localdate()
    links = []
    for username, url, note in LINKS:
        via = DroppedLink.Via.SLACK if username == "eli" else DroppedLink.Via.WEB
        links.append(services.link_drop(url=url, note=note, by=users.get(username), via=via))

    earlier = services.newsletter_create(
        title="Community newsletter, last month",
        period_start=today - dt.timedelta(days=60),
        period_end=today - dt.timedelta(days=31),
        by=mia,
    )
    section = services.section_add(newsletter=earlier, heading="Meetups", body="We met.", by=mia)
    services.newsletter_request_review(newsletter=earlier, by=mia)
    comment = services.review_comment(
        newsletter=earlier,
        section=section,
        body="Say who came and what they built: that is what makes people come next time.",
        suggested_body="Forty people came to Lisbon; three showed what they built on the SDK, and the "
        "connector demo ran on a Raspberry Pi. Slides and photos are on the meetup page.",
        by=ari,
    )
    services.suggestion_accept(comment=comment, by=mia)
    services.review_decide(newsletter=earlier, approve=True, body="", by=ari)

    issue = services.newsletter_create(
        title="Community newsletter, this month",
        period_start=today - dt.timedelta(days=30),
        period_end=today,
        by=mia,
    )
    for link in links[:3]:
        services.section_add(
            newsletter=issue,
            heading=link.title or link.note,
            body=f"{link.note}. " + "Here is why it matters to you, in the marketer's own words.",
            kind="link",
            url=link.url,
            link=link,
            source_key=f"link:{link.pk}",
            by=mia,
        )
    services.newsletter_request_review(newsletter=issue, by=mia)
    services.review_comment(
        newsletter=issue, body="Strong issue. Lead with the SDK release next time: it is what people asked for.", by=ari
    )
    services.review_decide(newsletter=issue, approve=True, body="Approved.", by=ari)
    return {"links": DroppedLink.objects.count(), "newsletters": Newsletter.objects.count()}
