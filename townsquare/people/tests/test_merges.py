from __future__ import annotations

from typing import Any

import pytest

from townsquare.core.errors import TownsquareError
from townsquare.people.models import ErasureRecord, Identity, Member, MergeRecord, MergeSuggestion
from townsquare.people.services import (
    member_erase,
    member_export,
    member_for_new_identity,
    member_merge,
    member_split,
    merge_suggestion_accept,
    merge_suggestion_reject,
    merge_undo,
)
from townsquare.people.tests.factories import IdentityFactory, MemberFactory, OrganizationFactory
from townsquare.sources.models import Message
from townsquare.sources.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_it_merges_two_members_manually(make_user: Any) -> None:
    curator = make_user("devrel_member")
    org = OrganizationFactory()
    target = IdentityFactory(realm="github").member
    source = IdentityFactory(realm="slack:T1", member__organization=org, member__primary_email="x@y.io").member
    MessageFactory(author=source.identities.get())
    record = member_merge(source=source, target=target, by=curator)
    target.refresh_from_db()
    assert not Member.objects.filter(pk=source.pk).exists()
    assert target.identities.count() == 2
    assert (target.organization, target.primary_email) == (org, "x@y.io")
    assert (record.action, record.reason, record.by) == ("merge", "manual", curator)
    assert Message.objects.filter(author__member=target).count() == 1


def test_it_undoes_a_merge(make_user: Any) -> None:
    curator = make_user("devrel_member")
    target = IdentityFactory(realm="github", member__display_name="Ana").member
    source = IdentityFactory(realm="slack:T1", member__display_name="ana.b").member
    moved = list(source.identities.values_list("pk", flat=True))
    source_pk, created = source.pk, source.created_at
    record = member_merge(source=source, target=target, by=curator)
    restored = merge_undo(record=record, by=curator)
    assert restored.pk == source_pk
    restored.refresh_from_db()
    assert (restored.display_name, restored.created_at) == ("ana.b", created)
    assert list(restored.identities.values_list("pk", flat=True)) == moved
    target.refresh_from_db()
    assert target.organization is None and target.identities.count() == 1
    record.refresh_from_db()
    assert record.undone_at is not None and record.undone_by == curator
    with pytest.raises(TownsquareError, match="already undone"):
        merge_undo(record=record, by=curator)


def test_it_refuses_to_undo_a_merge_whose_identities_moved_on(make_user: Any) -> None:
    a, b, c = (IdentityFactory().member for _ in range(3))
    first = member_merge(source=b, target=a, by=None)
    second = member_merge(source=a, target=c, by=None)
    with pytest.raises(TownsquareError, match="undo the later merge"):
        merge_undo(record=first, by=None)
    merge_undo(record=second, by=None)
    first.refresh_from_db()
    assert first.target_id == a.pk  # pointed back at the restored member
    merge_undo(record=first, by=None)
    assert Member.objects.count() == 3
    assert all(m.identities.count() == 1 for m in Member.objects.all())


def test_it_refuses_to_merge_a_member_into_itself() -> None:
    member = MemberFactory()
    with pytest.raises(TownsquareError, match="itself"):
        member_merge(source=member, target=member, by=None)


def test_it_undoes_an_automatic_email_merge() -> None:
    first = member_for_new_identity(realm="github", external_id="1", email="ana@quillmoor.com", email_verified=True)
    second = member_for_new_identity(realm="gitlab", external_id="1", email="ana@quillmoor.com", email_verified=True)
    record = MergeRecord.objects.get(reason="same_email")
    restored = merge_undo(record=record, by=None)
    second.refresh_from_db()
    assert second.member_id == restored.pk != first.member_id


def test_it_splits_identities_into_a_new_member_and_undoes_it(make_user: Any) -> None:
    member = MemberFactory(display_name="Two people")
    keep = IdentityFactory(member=member, realm="github", handle="real")
    other = IdentityFactory(member=member, realm="irc:libera.chat", handle="imposter", email="imp@saltmarsh-bio.com")
    MessageFactory(author=other)
    record = member_split(member=member, identity_ids=[other.pk], by=make_user("devrel_member"))
    new = record.target
    assert new is not None and new.display_name == "imposter"
    assert new.organization is not None and new.organization.name == "Saltmarsh-bio"
    assert list(new.identities.all()) == [other]
    assert new.last_seen is not None
    merge_undo(record=record, by=None)
    assert set(member.identities.all()) == {keep, other}
    assert not Member.objects.filter(pk=new.pk).exists()


def test_it_refuses_to_split_off_every_identity() -> None:
    identity = IdentityFactory()
    with pytest.raises(TownsquareError, match="at least one"):
        member_split(member=identity.member, identity_ids=[identity.pk], by=None)
    with pytest.raises(TownsquareError, match="belong"):
        member_split(member=identity.member, identity_ids=[IdentityFactory().pk], by=None)


def test_it_accepts_a_suggestion_by_merging(make_user: Any) -> None:
    a = member_for_new_identity(realm="github", external_id="1", handle="octavia")
    b = member_for_new_identity(realm="slack:T1", external_id="U1", handle="octavia")
    suggestion = MergeSuggestion.objects.get()
    record = merge_suggestion_accept(suggestion=suggestion, by=make_user("devrel_member"))
    assert record.reason == "same_handle"
    assert Identity.objects.filter(member_id=a.member_id).count() == 2
    assert not Member.objects.filter(pk=b.member_id).exists()


def test_it_rejects_a_suggestion_and_never_suggests_it_again(make_user: Any) -> None:
    member_for_new_identity(realm="github", external_id="1", handle="octavia")
    member_for_new_identity(realm="slack:T1", external_id="U1", handle="octavia")
    suggestion = merge_suggestion_reject(suggestion=MergeSuggestion.objects.get(), by=make_user("devrel_member"))
    assert suggestion.status == "rejected"
    member_for_new_identity(realm="github", external_id="1", handle="octavia")
    assert MergeSuggestion.objects.get().status == "rejected"
    with pytest.raises(TownsquareError, match="already rejected"):
        merge_suggestion_reject(suggestion=suggestion, by=None)


def test_it_erases_a_member_with_their_identities_and_messages(make_user: Any) -> None:
    lead = make_user("devrel_lead")
    member = MemberFactory(display_name="Forget Me", primary_email="forget@me.org")
    one, two = IdentityFactory(member=member), IdentityFactory(member=member, realm="slack:T1")
    MessageFactory.create_batch(3, author=one)
    MessageFactory(author=two)
    bystander = MessageFactory()
    other = IdentityFactory().member
    member_merge(source=other, target=member, by=lead)
    record = member_erase(member=member, by=lead, reason="ticket GDPR-17")
    assert (record.identity_count, record.message_count, record.merge_record_count) == (3, 4, 1)
    # what sources' erase hook deleted, and the keyed hashes (3 identities, 1 email) that keep it erased
    assert record.removed == {"messages": 4, "suppressed keys": 4}
    assert not Member.objects.filter(pk=member.pk).exists()
    assert list(Message.objects.all()) == [bystander]
    assert MergeRecord.objects.count() == 0
    saved = ErasureRecord.objects.values().get()
    assert "Forget" not in str(saved) and "forget@me.org" not in str(saved)


def test_it_needs_a_reason_to_erase() -> None:
    with pytest.raises(TownsquareError, match="say why"):
        member_erase(member=MemberFactory(), by=None, reason="  ")


def test_it_exports_a_members_identities_and_messages() -> None:
    identity = IdentityFactory(email="ana@quillmoor.com", handle="ana")
    message = MessageFactory(author=identity, title="Crash on start")
    MessageFactory()
    data = member_export(member=identity.member)
    assert data["member"]["id"] == identity.member_id
    assert [i["handle"] for i in data["identities"]] == ["ana"]
    assert [(m["id"], m["title"], m["url"]) for m in data["messages"]] == [(message.pk, "Crash on start", message.url)]
