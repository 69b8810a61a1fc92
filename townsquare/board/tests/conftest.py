from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def devrel(make_user: Any) -> Any:
    return make_user("devrel_member", username="ari", team="DevRel", full_name="Ari Lindqvist")


@pytest.fixture
def helpers(make_user: Any) -> tuple[Any, Any]:
    eli = make_user("stakeholder_member", username="eli", team="Engineering", full_name="Eli Novak")
    sam = make_user("stakeholder_member", username="sam", team="Support", full_name="Sam Patel")
    return eli, sam


@pytest.fixture
def chat_room(http_endpoint: Any) -> Any:
    """A real local webhook registered as the company's DevRel channel."""
    from townsquare.notify.services import destination_save

    return destination_save(
        name="DevRel channel", url=http_endpoint.url("json"), purposes=["announcements"], enabled=True
    )
