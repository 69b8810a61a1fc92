from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from townsquare.people.models import MergeRecord, MergeSuggestion
from townsquare.people.services import member_for_new_identity
from townsquare.people.tests.factories import AccountFactory, IdentityFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(make_user: Any) -> Any:
    def login(role: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(make_user(role))
        return client

    return login


def test_the_api_lists_members_with_their_identities(api: Any, django_assert_max_num_queries: Any) -> None:
    account = AccountFactory(tier="enterprise")
    for n in range(5):
        identity = IdentityFactory(handle=f"dev{n}", member__organization=account.organization if n == 0 else None)
        IdentityFactory(member=identity.member, realm="slack:T1")
    client = api("devrel_member")
    # 6 of them are the API throttle's count in the database cache (read, cull check, write), per request.
    with django_assert_max_num_queries(10):
        body = client.get("/api/v1/people/members/").json()
    assert body["count"] == 5
    first = next(m for m in body["results"] if m["organization"])
    assert first["customer_tier"] == "enterprise" and len(first["identities"]) == 2
    found = client.get("/api/v1/people/members/", {"q": "dev3"}).json()
    assert found["count"] == 1 and found["results"][0]["identities"][0]["handle"] == "dev3"
    detail = client.get(f"/api/v1/people/members/{first['id']}/").json()
    assert detail["id"] == first["id"]


def test_the_api_lists_organisations_and_accounts_for_readers(api: Any) -> None:
    AccountFactory(crm_id="CRM-1", organization__name="Quillmoor")
    client = api("executive")
    assert client.get("/api/v1/people/organizations/").json()["results"][0]["account"] == "CRM-1"
    assert client.get("/api/v1/people/accounts/").json()["results"][0]["crm_id"] == "CRM-1"
    assert client.get("/api/v1/people/members/").status_code == 403


def test_the_api_decides_merge_suggestions(api: Any) -> None:
    member_for_new_identity(realm="github", external_id="1", handle="octavia")
    member_for_new_identity(realm="slack:T1", external_id="1", handle="octavia")
    client = api("devrel_member")
    listed = client.get("/api/v1/people/merge-suggestions/").json()
    pk = listed["results"][0]["id"]
    assert client.post(f"/api/v1/people/merge-suggestions/{pk}/decision/", {"decision": "maybe"}).status_code == 400
    response = client.post(f"/api/v1/people/merge-suggestions/{pk}/decision/", {"decision": "accept"})
    assert response.json()["status"] == "accepted"
    assert MergeRecord.objects.get().reason == "same_handle"
    assert not MergeSuggestion.objects.exists()
    assert api("stakeholder_member").get("/api/v1/people/merge-suggestions/").status_code == 403
