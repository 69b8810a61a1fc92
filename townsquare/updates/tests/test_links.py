"""URL normalisation, the link drop's refusals, and the title fetch against real local pages."""

from __future__ import annotations

from typing import Any

import pytest

from townsquare.core.errors import TownsquareError
from townsquare.testing.servers import free_port
from townsquare.updates import links
from townsquare.updates.models import DroppedLink
from townsquare.updates.services.newsletter import link_drop

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ("HTTPS://Example.COM/Blog/Post/", "https://example.com/Blog/Post"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a/", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/?utm_source=x&utm_MEDIUM=y&b=2&a=1", "https://example.com/?a=1&b=2"),
        ("https://example.com/a?fbclid=abc&gclid=def#comments", "https://example.com/a"),
        ("  https://example.com./a  ", "https://example.com/a"),
    ],
)
def test_it_normalises_urls_for_de_duplication(given: str, key: str) -> None:
    assert links.normalise_url(given) == key


def test_it_keeps_the_fragment_and_drops_only_tracking_params_in_the_published_link() -> None:
    cleaned = links.clean_url("HTTPS://Example.com:443/a?utm_source=news&page=2#part-3")
    assert cleaned == "https://example.com/a?page=2#part-3"


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("javascript:alert(1)", "only http:// and https:// links"),
        ("file:///etc/passwd", "only http:// and https:// links"),
        ("ftp://example.com/x", "only http:// and https:// links"),
        ("example.com/no-scheme", "only http:// and https:// links"),
        ("https:///no-host", "has no host name"),
        ("https://user:secret@example.com/", "must not contain a user name or password"),
        ("http://example.com:99999/", "is not a valid URL"),
    ],
)
def test_it_refuses_links_that_are_not_plain_http(seller: Any, given: str, reason: str) -> None:
    with pytest.raises(TownsquareError, match=reason):
        link_drop(url=given, note="worth a read", by=seller)
    assert DroppedLink.objects.count() == 0


def test_it_refuses_a_duplicate_and_says_who_dropped_it_first(seller: Any, marketer: Any) -> None:
    link_drop(url="https://example.com/post/?utm_source=slack", note="great tutorial", by=seller)
    with pytest.raises(TownsquareError) as caught:
        link_drop(url="https://EXAMPLE.com/post#top", note="same thing", by=marketer)
    assert "already dropped by Sol Rivera" in str(caught.value)
    assert "https://EXAMPLE.com/post#top" not in caught.value.message
    assert DroppedLink.objects.count() == 1


def test_it_needs_a_line_of_context(seller: Any) -> None:
    with pytest.raises(TownsquareError, match="add a line of context"):
        link_drop(url="https://example.com/", note="   \x00 ", by=seller)
    assert DroppedLink.objects.count() == 0


def test_an_executive_reads_but_does_not_drop(executive: Any) -> None:
    with pytest.raises(TownsquareError, match="may read dropped links but not drop them"):
        link_drop(url="https://example.com/", note="hi", by=executive)


def test_it_does_not_fetch_titles_unless_allowed(seller: Any, pages: Any, settings: Any) -> None:
    settings.LINK_FETCH_TITLES = False
    link = link_drop(url=pages.url("/post/"), note="guide", by=seller)
    assert link.title == ""
    assert pages.hits == []


def test_it_reads_the_title_from_a_real_page_when_allowed(seller: Any, pages: Any, settings: Any) -> None:
    settings.LINK_FETCH_TITLES = True
    settings.LINK_FETCH_PRIVATE = True
    link = link_drop(url=pages.url("/moved"), note="guide", by=seller)
    assert link.title == "Kafka & you: a guide"
    assert pages.hits == ["/moved", "/post/"]
    other = link_drop(url=pages.url("/plain"), note="data", by=seller)
    assert other.title == ""


@pytest.mark.parametrize(("path", "reason"), [("/hang-up", "does not answer"), ("/missing", "answered HTTP 404")])
def test_a_page_that_does_not_answer_is_refused_and_nothing_stored(
    seller: Any, pages: Any, settings: Any, path: str, reason: str
) -> None:
    settings.LINK_FETCH_TITLES = True
    settings.LINK_FETCH_PRIVATE = True
    with pytest.raises(TownsquareError, match=reason):
        link_drop(url=pages.url(path), note="broken", by=seller)
    assert DroppedLink.objects.count() == 0


def test_a_closed_port_is_refused(seller: Any, settings: Any) -> None:
    settings.LINK_FETCH_TITLES = True
    settings.LINK_FETCH_PRIVATE = True
    with pytest.raises(TownsquareError, match="does not answer"):
        link_drop(url=f"http://127.0.0.1:{free_port()}/", note="nobody home", by=seller)
    assert DroppedLink.objects.count() == 0


def test_private_addresses_are_not_fetched_unless_allowed(seller: Any, pages: Any, settings: Any) -> None:
    settings.LINK_FETCH_TITLES = True
    settings.LINK_FETCH_PRIVATE = False
    with pytest.raises(TownsquareError, match="private or local address"):
        link_drop(url=pages.url("/post/"), note="intranet", by=seller)
    assert pages.hits == []
    assert DroppedLink.objects.count() == 0
