from __future__ import annotations

import pytest

from townsquare.core.feeds import feed_token
from townsquare.core.roles import Role

pytestmark = pytest.mark.django_db


def test_a_feed_needs_a_session_or_a_valid_token(client, make_user) -> None:
    reader = make_user(Role.EXECUTIVE)
    assert client.get("/board/done/feed.atom").status_code == 403
    assert client.get("/board/done/feed.atom?token=forged").status_code == 403
    response = client.get(f"/board/done/feed.atom?token={feed_token(reader)}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")


def test_a_token_stops_working_when_the_user_is_deactivated(client, make_user) -> None:
    reader = make_user(Role.STAKEHOLDER_MEMBER)
    token = feed_token(reader)
    reader.is_active = False
    reader.save()
    assert client.get(f"/reports/feed/all/?token={token}").status_code == 403


def test_a_token_carries_the_users_role(client, make_user) -> None:
    # The reports feed is for readers; every role is a reader, so check a user without any role.
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("nobody", "nobody@example.com", "pw")
    assert client.get(f"/reports/feed/all/?token={feed_token(nobody)}").status_code == 403
