from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from townsquare.people.models import Member, MergeRecord, MergeSuggestion, Organization, Team
from townsquare.people.refs import IdentityRef
from townsquare.people.services import (
    identities_resolve,
    member_for_new_identity,
    members_staff_refresh,
    organizations_for_domains,
)
from townsquare.people.tests.factories import IdentityFactory, OrganizationDomainFactory

pytestmark = pytest.mark.django_db


def test_it_creates_one_member_per_new_identity_and_is_idempotent() -> None:
    refs = [
        IdentityRef(realm="github", external_id=str(n), handle=f"dev{n}", display_name=f"Dev {n}") for n in range(5)
    ]
    first = identities_resolve(refs=refs)
    again = identities_resolve(refs=refs)
    assert len(first) == 5
    assert {k: v.pk for k, v in first.items()} == {k: v.pk for k, v in again.items()}
    assert Member.objects.count() == 5
    assert Member.objects.get(identities__external_id="3").display_name == "Dev 3"


def test_it_resolves_a_thousand_refs_in_a_few_queries() -> None:
    IdentityFactory.create_batch(20, realm="slack:T1")
    refs = [
        IdentityRef(
            realm="slack:T1" if n % 2 else "github",
            external_id=f"u{n}",
            handle=f"person{n}",
            email=f"p{n}@corp{n % 7}.com" if n % 3 else f"p{n}@gmail.com",
            email_verified=n % 5 == 0,
        )
        for n in range(1000)
    ]
    with CaptureQueriesContext(connection) as captured:
        resolved = identities_resolve(refs=refs)
    assert len(resolved) == 1000
    assert len(captured.captured_queries) <= 40
    with CaptureQueriesContext(connection) as captured:
        identities_resolve(refs=refs)
    assert len(captured.captured_queries) <= 6


def test_member_for_new_identity_returns_the_same_identity_twice() -> None:
    one = member_for_new_identity(realm="irc:libera.chat", external_id="alice", handle="alice")
    two = member_for_new_identity(realm="irc:libera.chat", external_id="alice", handle="alice")
    assert one.pk == two.pk
    assert one.member.display_name == "alice"


def test_it_refreshes_a_known_identity_with_new_details() -> None:
    member_for_new_identity(realm="github", external_id="42", handle="old")
    identity = member_for_new_identity(realm="github", external_id="42", handle="new", email="New@Acme.com")
    identity.refresh_from_db()
    assert (identity.handle, identity.email) == ("new", "new@acme.com")


def test_it_links_company_email_to_an_organisation_but_never_personal_domains() -> None:
    corp = member_for_new_identity(realm="github", external_id="1", email="ana@dev.quillmoor.com")
    webmail = member_for_new_identity(realm="github", external_id="2", email="bob@gmail.com")
    qq = member_for_new_identity(realm="github", external_id="3", email="chen@qq.com")
    noreply = member_for_new_identity(realm="github", external_id="4", email="5+x@users.noreply.github.com")
    assert corp.member.organization is not None
    assert corp.member.organization.name == "Quillmoor"
    assert list(corp.member.organization.domains.values_list("domain", flat=True)) == ["quillmoor.com"]
    assert (
        webmail.member.organization is None and qq.member.organization is None and noreply.member.organization is None
    )
    assert Organization.objects.count() == 1


def test_it_matches_a_subdomain_to_its_organisation() -> None:
    domain = OrganizationDomainFactory(domain="tessellatehealth.com")
    found = organizations_for_domains(domains=["eu.tessellatehealth.com", "yahoo.co.uk"])
    assert found == {"eu.tessellatehealth.com": domain.organization}


def test_it_marks_staff_by_team_domain_and_by_user_email(make_user: Any, settings: Any) -> None:
    settings.COMPANY_EMAIL_DOMAINS = ["townsquare.dev"]
    team = Team.objects.create(name="Support", slug="support", kind="support", email_domain="help.example.net")
    user = make_user("devrel_member", team="DevRel")
    by_team = member_for_new_identity(realm="github", external_id="1", email="kim@help.example.net")
    by_user = member_for_new_identity(realm="slack:T1", external_id="U1", email=user.email)
    by_company = member_for_new_identity(realm="github", external_id="2", email="lee@townsquare.dev")
    outsider = member_for_new_identity(realm="github", external_id="3", email="zoe@elsewhere.io")
    assert (by_team.member.is_staff, by_team.member.team) == (True, team)
    assert by_user.member.is_staff and by_user.member.team.name == "DevRel"
    assert by_company.member.is_staff and by_company.member.team is None
    assert outsider.member.is_staff is False


def test_it_re_marks_staff_when_a_team_domain_is_added() -> None:
    identity = member_for_new_identity(realm="github", external_id="1", email="kim@cobaltline.net")
    assert identity.member.is_staff is False
    Team.objects.create(name="Engineering", slug="engineering", email_domain="cobaltline.net")
    assert members_staff_refresh() == 1
    identity.member.refresh_from_db()
    assert identity.member.is_staff is True


def test_it_merges_members_with_the_same_verified_email() -> None:
    github = member_for_new_identity(
        realm="github", external_id="7", handle="ana", email="ana@quillmoor.com", email_verified=True
    )
    slack = member_for_new_identity(
        realm="slack:T1", external_id="U7", handle="ana.b", email="ANA@quillmoor.com", email_verified=True
    )
    assert slack.member_id == github.member_id
    assert Member.objects.count() == 1
    record = MergeRecord.objects.get()
    assert (record.reason, record.target_id, record.identity_ids) == ("same_email", github.member_id, [slack.pk])


def test_it_does_not_merge_on_an_unverified_email() -> None:
    a = member_for_new_identity(realm="github", external_id="7", email="ana@quillmoor.com", email_verified=True)
    b = member_for_new_identity(realm="mbox", external_id="ana@quillmoor.com", email="ana@quillmoor.com")
    assert a.member_id != b.member_id
    assert MergeRecord.objects.count() == 0


def test_it_merges_within_one_batch_on_the_same_verified_email() -> None:
    refs = [
        IdentityRef(realm=realm, external_id="x", email="sam@orrerylabs.ai", email_verified=True)
        for realm in ("github", "gitlab", "discourse:forum.example.org")
    ]
    resolved = identities_resolve(refs=refs)
    assert len({i.member_id for i in resolved.values()}) == 1
    assert Member.objects.count() == 1
    assert MergeRecord.objects.filter(reason="same_email").count() == 2


def test_it_suggests_a_merge_for_the_same_handle_on_another_channel() -> None:
    a = member_for_new_identity(realm="github", external_id="1", handle="octavia")
    b = member_for_new_identity(realm="discourse:forum.example.org", external_id="99", handle="Octavia")
    member_for_new_identity(realm="github", external_id="2", handle="xy")  # too short to suggest
    suggestion = MergeSuggestion.objects.get()
    assert {suggestion.member_a_id, suggestion.member_b_id} == {a.member_id, b.member_id}
    assert "octavia" in suggestion.reason.lower()
    assert a.member_id != b.member_id
