from __future__ import annotations

import pytest

from townsquare.home.demo import demo_load
from townsquare.people.demo import people_demo_load
from townsquare.people.models import Account, Member, Organization

pytestmark = pytest.mark.django_db


def test_the_people_demo_loads_accounts_and_staff_and_is_idempotent() -> None:
    demo_load()
    first = people_demo_load()
    counts = (Account.objects.count(), Organization.objects.count(), Member.objects.count())
    second = people_demo_load()
    assert first == second == {"accounts": 18, "staff_members": 2}
    assert (Account.objects.count(), Organization.objects.count(), Member.objects.count()) == counts == (18, 18, 2)
    assert Member.objects.filter(is_staff=True, team__name="DevRel").count() == 2
    assert Account.objects.get(crm_id="001A000004").organization.domains.count() == 2
