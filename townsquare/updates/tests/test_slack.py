"""The /townsquare slash command: requests signed in the test like Slack signs them."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import pytest

from townsquare.updates.models import DroppedLink
from townsquare.updates.slack import signature_for

pytestmark = pytest.mark.django_db
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
URL = "/updates/links/slack/"


@pytest.fixture(autouse=True)
def _signing_secret(settings: Any) -> None:
    settings.SLACK_SIGNING_SECRET = SECRET


def slash(client: Any, text: str, *, secret: str = SECRET, age: float = 0, **fields: str) -> Any:
    form = {
        "token": "deprecated",
        "team_id": "T0001",
        "team_domain": "acme",
        "user_id": "U2147483697",
        "user_name": "sol",
        "command": "/townsquare",
        "text": text,
        **fields,
    }
    body = urlencode(form).encode()
    timestamp = str(int(time.time() - age))
    return client.post(
        URL,
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature_for(secret=secret, timestamp=timestamp, body=body),
        },
    )


def test_a_signed_command_drops_the_link_as_the_matching_user(client: Any, seller: Any) -> None:
    response = slash(
        client, "drop <https://example.com/kafka?utm_source=slack|example.com/kafka> Kafka guide, customers love it"
    )
    assert response.status_code == 200
    assert response.json() == {
        "response_type": "ephemeral",
        "text": "Dropped https://example.com/kafka for the newsletter. Thanks!",
    }
    link = DroppedLink.objects.get()
    assert (link.url, link.note, link.dropped_by, link.via) == (
        "https://example.com/kafka",
        "Kafka guide, customers love it",
        seller,
        DroppedLink.Via.SLACK,
    )


def test_a_known_slack_identity_maps_by_email(client: Any, marketer: Any) -> None:
    from townsquare.people.models import Identity, Member

    member = Member.objects.create(display_name="Mia")
    Identity.objects.create(
        realm="slack:T0001", external_id="U999", handle="mia.c", email=marketer.email, member=member
    )
    slash(client, "drop https://example.com/a note", user_id="U999", user_name="mia.c")
    assert DroppedLink.objects.get().dropped_by == marketer


def test_an_unknown_slack_user_is_kept_by_name(client: Any, db: None) -> None:
    slash(client, "drop https://example.com/a note", user_name="stranger")
    link = DroppedLink.objects.get()
    assert (link.dropped_by, link.dropped_by_name) == (None, "stranger (Slack)")


def test_a_bad_signature_is_refused_and_nothing_stored(client: Any, seller: Any) -> None:
    response = slash(client, "drop https://example.com/a note", secret="not-the-secret")
    assert response.status_code == 401
    assert "signature does not match" in response.content.decode()
    assert DroppedLink.objects.count() == 0


def test_a_tampered_body_is_refused(client: Any, seller: Any) -> None:
    body = urlencode({"text": "drop https://example.com/a note", "user_name": "sol"}).encode()
    timestamp = str(int(time.time()))
    response = client.post(
        URL,
        data=body.replace(b"example.com", b"evil.example"),
        content_type="application/x-www-form-urlencoded",
        headers={
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature_for(secret=SECRET, timestamp=timestamp, body=body),
        },
    )
    assert response.status_code == 401
    assert DroppedLink.objects.count() == 0


def test_an_old_timestamp_is_refused_as_a_replay(client: Any, seller: Any) -> None:
    response = slash(client, "drop https://example.com/a note", age=6 * 60)
    assert response.status_code == 401
    assert "refused as a replay" in response.content.decode()
    assert DroppedLink.objects.count() == 0


def test_missing_headers_are_refused(client: Any, db: None) -> None:
    response = client.post(URL, data={"text": "drop https://example.com/a note"})
    assert response.status_code == 401
    assert DroppedLink.objects.count() == 0


def test_without_a_secret_the_command_is_off(client: Any, settings: Any, seller: Any) -> None:
    settings.SLACK_SIGNING_SECRET = ""
    response = slash(client, "drop https://example.com/a note", secret="")
    assert response.status_code == 401
    assert "not configured" in response.content.decode()


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("drop javascript:alert(1) look", "only http:// and https:// links"),
        ("drop https://example.com/a", "add a line of context"),
        ("help", "Usage: /townsquare drop URL"),
    ],
)
def test_bad_commands_get_a_clear_answer_and_store_nothing(client: Any, seller: Any, text: str, answer: str) -> None:
    response = slash(client, text)
    assert response.status_code == 200
    assert response.json()["text"].startswith("Not dropped:")
    assert answer in response.json()["text"]
    assert DroppedLink.objects.count() == 0


def test_a_duplicate_is_refused_in_slack_too(client: Any, seller: Any) -> None:
    slash(client, "drop https://example.com/a/ first")
    response = slash(client, "drop <https://EXAMPLE.com/a#x> second")
    assert "already dropped by Sol Rivera" in response.json()["text"]
    assert DroppedLink.objects.count() == 1


def test_the_endpoint_only_takes_posts(client: Any, db: None) -> None:
    assert client.get(URL).status_code == 405
