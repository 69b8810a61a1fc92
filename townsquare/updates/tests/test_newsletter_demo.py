from __future__ import annotations

import pytest

from townsquare.home.demo import demo_load
from townsquare.updates.demo_newsletter import newsletter_demo_load
from townsquare.updates.models import Newsletter
from townsquare.updates.selectors.newsletter import devrel_text_share

pytestmark = pytest.mark.django_db


def test_the_demo_loads_links_and_two_approved_issues_once() -> None:
    demo_load()
    assert newsletter_demo_load() == {"links": 4, "newsletters": 2}
    assert newsletter_demo_load() == {"links": 4, "newsletters": 2}
    assert set(Newsletter.objects.values_list("status", flat=True)) == {Newsletter.Status.APPROVED}
    shares = [row.share for row in devrel_text_share()]
    assert shares[0] > 0.5 and shares[1] == 0.0
