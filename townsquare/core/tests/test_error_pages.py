"""Error pages sit inside the layout: navigation, a main landmark, what happened and where to go instead."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from townsquare.core.roles import Role


@pytest.mark.django_db
def test_a_stakeholder_meets_a_403_that_names_their_role_and_their_pages(client: Any, make_user: Any) -> None:
    client.force_login(make_user(Role.STAKEHOLDER_MEMBER))
    response = client.get("/listen/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "have access to this page" in html and "Your role does not give access" in html
    assert 'id="main"' in html and 'class="topbar"' in html  # inside the layout, with the main navigation
    assert "Stakeholder team member" in html
    # The pages open to this role are offered; Listen (DevRel only) is not among them.
    links = html.split("Pages open to you", 1)[1]
    assert 'href="/feedback/"' in links and 'href="/requests/"' in links
    assert 'href="/listen/"' not in links


@pytest.mark.django_db
def test_404_is_styled_with_navigation_and_escapes_the_path(client: Any, make_user: Any) -> None:
    client.force_login(make_user(Role.DEVREL_MEMBER))
    response = client.get("/no-such-page/<script>x</script>")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<main" in html and 'class="topbar"' in html
    assert "This page does not exist" in html
    assert "<script>x</script>" not in html


@pytest.mark.django_db
def test_404_for_a_visitor_offers_the_login_page(client: Any) -> None:
    response = client.get("/login/nothing-here/")
    assert response.status_code == 404
    assert 'href="/login/"' in response.content.decode()


def test_500_renders_without_a_request_context() -> None:
    # Django renders 500.html with no context at all (the database may be down): it must still stand.
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html and "<main" in html


@pytest.mark.django_db
def test_the_api_docs_page_leads_back_to_the_app(client: Any, make_user: Any) -> None:
    client.force_login(make_user(Role.STAKEHOLDER_MEMBER))
    html = client.get("/api/docs/").content.decode()
    assert 'id="swagger-ui"' in html
    assert 'href="/home/"' in html and "Back to Townsquare" in html
    assert 'href="/account/"' in html
