from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.text import slugify

from townsquare.core import hooks
from townsquare.core.errors import TownsquareError
from townsquare.core.roles import Role
from townsquare.core.sql import chunked
from townsquare.people.email_domains import domain_candidates, email_domain, is_personal_domain, registrable_domain
from townsquare.people.models import (
    ErasureRecord,
    ErasureSuppression,
    Identity,
    Member,
    MergeRecord,
    MergeSuggestion,
    Organization,
    OrganizationDomain,
    Team,
    TeamMembership,
)
from townsquare.people.refs import IdentityRef


def roles_ensure() -> list[Group]:
    """Create the role groups if missing (idempotent)."""
    return [Group.objects.get_or_create(name=role.value)[0] for role in Role]


def team_ensure(*, name: str, kind: str, description: str = "") -> Team:
    if kind not in Team.Kind.values:
        raise TownsquareError(f"unknown team kind {kind!r}", record=name)
    team, _ = Team.objects.get_or_create(
        slug=slugify(name), defaults={"name": name, "kind": kind, "description": description}
    )
    return team


@transaction.atomic
def user_ensure(
    *,
    username: str,
    email: str,
    full_name: str,
    role: str,
    team: Team | None = None,
    is_lead: bool = False,
    password: str | None = None,
) -> AbstractUser:
    """Create or update a user with exactly one role and (optionally) one team membership."""
    if role not in Role.values:
        raise TownsquareError(f"unknown role {role!r}", record=username)
    User = get_user_model()
    first, _, last = full_name.partition(" ")
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": email, "first_name": first, "last_name": last}
    )
    if created:
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
    user.is_superuser = user.is_staff = role == Role.ADMIN
    user.save()
    user.groups.remove(*Group.objects.filter(name__in=Role.values).exclude(name=role))
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    if team is not None:
        TeamMembership.objects.update_or_create(team=team, user=user, defaults={"is_lead": is_lead})
    return user


# ---------------------------------------------------------------- identities from ingestion

log = logging.getLogger(__name__)

_MIN_HANDLE_FOR_SUGGESTION = 3


@dataclass
class StaffDirectory:
    """Who counts as company staff: team email domains, the company domains, and our users' addresses."""

    domains: dict[str, int | None] = field(default_factory=dict)
    emails: dict[str, int | None] = field(default_factory=dict)

    @classmethod
    def load(cls) -> StaffDirectory:
        directory = cls()
        for domain in getattr(settings, "COMPANY_EMAIL_DOMAINS", ()) or ():
            directory.domains.setdefault(domain.strip().lower().lstrip("@"), None)
        for domain, team_id in Team.objects.exclude(email_domain="").values_list("email_domain", "id"):
            directory.domains[domain.strip().lower().lstrip("@")] = team_id
        User = get_user_model()
        rows = User.objects.exclude(email="").order_by("pk").values_list("email", "team_memberships__team_id")
        for email, team_id in rows:
            key = email.strip().lower()
            if directory.emails.get(key) is None:
                directory.emails[key] = team_id
        return directory

    def match(self, email: str) -> tuple[bool, int | None]:
        """(is staff, team id) for one address."""
        if not email:
            return False, None
        if email in self.emails:
            return True, self.emails[email]
        domain = email_domain(email)
        for candidate in domain_candidates(domain):
            if candidate in self.domains:
                return True, self.domains[candidate]
        return False, None


def identities_resolve(*, refs: Iterable[IdentityRef]) -> dict[tuple[str, str], Identity]:
    """Return the Identity for every ref, creating Identities and Members for new authors.

    Built for ingestion batches: about a dozen queries per 500 refs, whatever the batch.
    New authors get a Member each, an Organization from their email domain (never for
    personal webmail domains) and the staff mark; a new verified email already verified
    on another member merges the two (a ``same_email`` MergeRecord, undoable); a new
    handle already used in another realm opens a MergeSuggestion. Known identities get
    their handle, display name and email refreshed when the ref brings non-empty new
    values. Safe to call concurrently: a unique-key race is retried.
    """
    wanted: dict[tuple[str, str], IdentityRef] = {}
    for ref in refs:
        clean = ref.normalised()
        if not clean.realm or not clean.external_id:
            raise TownsquareError("an identity needs a realm and an external id", record=ref)
        earlier = wanted.get(clean.key)
        if earlier is not None and earlier.seen_at and clean.seen_at and earlier.seen_at < clean.seen_at:
            clean = replace(clean, seen_at=earlier.seen_at)  # keep the first sighting in the batch
        wanted[clean.key] = clean
    resolved: dict[tuple[str, str], Identity] = {}
    items = list(wanted.values())
    staff: StaffDirectory | None = None
    for chunk in chunked(items):
        for attempt in range(3):
            try:
                with transaction.atomic():
                    found, staff = _resolve_chunk(chunk, staff)
                break
            except IntegrityError:
                # Another worker created some of these identities (or organisations) first: look again.
                if attempt == 2:
                    raise
                log.info("identity race on a batch of %d refs, retrying", len(chunk))
        resolved.update(found)
    return resolved


def member_for_new_identity(
    *,
    realm: str,
    external_id: str,
    handle: str = "",
    display_name: str = "",
    email: str = "",
    email_verified: bool = False,
    is_bot: bool = False,
) -> Identity:
    """The single-ref form of :func:`identities_resolve` (same rules, same idempotency)."""
    ref = IdentityRef(
        realm=realm,
        external_id=external_id,
        handle=handle,
        display_name=display_name,
        email=email,
        email_verified=email_verified,
        is_bot=is_bot,
    )
    return identities_resolve(refs=[ref])[ref.normalised().key]


def _resolve_chunk(
    refs: Sequence[IdentityRef], staff: StaffDirectory | None
) -> tuple[dict[tuple[str, str], Identity], StaffDirectory | None]:
    by_realm: dict[str, list[str]] = defaultdict(list)
    for ref in refs:
        by_realm[ref.realm].append(ref.external_id)
    condition = Q()
    for realm, external_ids in by_realm.items():
        condition |= Q(realm=realm, external_id__in=external_ids)
    found = {(i.realm, i.external_id): i for i in Identity.objects.filter(condition)}

    changed: list[Identity] = []
    newly_verified: list[Identity] = []
    for ref in refs:
        identity = found.get(ref.key)
        if identity is None:
            continue
        dirty = False
        for name in ("handle", "display_name", "email"):
            value = getattr(ref, name)
            if value and getattr(identity, name) != value:
                setattr(identity, name, value)
                dirty = True
        if ref.email_verified and not identity.email_verified and identity.email == ref.email:
            identity.email_verified = True
            newly_verified.append(identity)
            dirty = True
        if dirty:
            changed.append(identity)
    if changed:
        Identity.objects.bulk_update(changed, ["handle", "display_name", "email", "email_verified"])

    new_refs = [ref for ref in refs if ref.key not in found]
    created: list[Identity] = []
    if new_refs:
        if staff is None:
            staff = StaffDirectory.load()
        organizations = organizations_for_domains(domains={email_domain(ref.email) for ref in new_refs if ref.email})
        members = []
        for ref in new_refs:
            is_staff, team_id = staff.match(ref.email)
            organization = organizations.get(email_domain(ref.email)) if ref.email else None
            members.append(
                Member(
                    display_name=(ref.display_name or ref.handle or ref.external_id)[:200],
                    primary_email=ref.email,
                    organization=organization,
                    is_staff=is_staff,
                    team_id=team_id,
                    is_bot=ref.is_bot,
                    first_seen=ref.seen_at,
                    last_seen=ref.seen_at,
                )
            )
        Member.objects.bulk_create(members)
        created = [
            Identity(
                realm=ref.realm,
                external_id=ref.external_id,
                handle=ref.handle,
                display_name=ref.display_name,
                email=ref.email,
                email_verified=ref.email_verified,
                is_bot=ref.is_bot,
                member=member,
            )
            for ref, member in zip(new_refs, members, strict=True)
        ]
        Identity.objects.bulk_create(created)
        found.update({(i.realm, i.external_id): i for i in created})

    verified = [i for i in created if i.email_verified] + newly_verified
    if verified:
        _merge_same_verified_email(verified, by_key=found)
    if created:
        _suggest_same_handle(created)
    return found, staff


def _merge_same_verified_email(identities: list[Identity], *, by_key: dict[tuple[str, str], Identity]) -> None:
    emails = {i.email for i in identities}
    rows = Identity.objects.filter(email__in=emails, email_verified=True).values_list("email", "member_id")
    parent: dict[int, int] = {}

    def root(member_id: int) -> int:
        parent.setdefault(member_id, member_id)
        while parent[member_id] != member_id:
            parent[member_id] = parent[parent[member_id]]
            member_id = parent[member_id]
        return member_id

    first_of_email: dict[str, int] = {}
    for email, member_id in rows:
        if email in first_of_email:
            a, b = root(first_of_email[email]), root(member_id)
            if a != b:
                parent[max(a, b)] = min(a, b)  # the oldest member survives
        else:
            first_of_email[email] = member_id
            root(member_id)
    groups: dict[int, list[int]] = defaultdict(list)
    for member_id in list(parent):
        target_id = root(member_id)
        if target_id != member_id:
            groups[target_id].append(member_id)
    if not groups:
        return
    members = Member.objects.in_bulk([*groups, *(m for sources in groups.values() for m in sources)])
    for target_id, source_ids in groups.items():
        for source_id in sorted(source_ids):
            record = _merge(
                source=members[source_id], target=members[target_id], reason=MergeRecord.Reason.SAME_EMAIL, by=None
            )
            moved = set(record.identity_ids)
            for identity in by_key.values():
                if identity.pk in moved:
                    identity.member_id = target_id


def _suggest_same_handle(created: list[Identity]) -> None:
    handles = {i.handle for i in created if len(i.handle) >= _MIN_HANDLE_FOR_SUGGESTION and not i.is_bot}
    if not handles:
        return
    lookup = handles | {h.lower() for h in handles}
    others = Identity.objects.filter(handle__in=lookup, is_bot=False).values_list("handle", "realm", "member_id")
    seen: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for handle, realm, member_id in others:
        seen[handle.lower()].append((realm, member_id))
    suggestions: dict[tuple[int, int], MergeSuggestion] = {}
    for identity in created:
        for realm, member_id in seen.get(identity.handle.lower(), ()):
            if member_id == identity.member_id or realm == identity.realm:
                continue
            a, b = sorted((member_id, identity.member_id))
            suggestions.setdefault(
                (a, b),
                MergeSuggestion(
                    member_a_id=a,
                    member_b_id=b,
                    reason=f"same handle “{identity.handle}” on {realm} and {identity.realm}"[:200],
                ),
            )
    if suggestions:
        # ignore_conflicts: a pair suggested (or rejected) before is not suggested again.
        MergeSuggestion.objects.bulk_create(list(suggestions.values()), ignore_conflicts=True)


def identity_aliases_suggest(*, aliases: Iterable[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Suggest merging the two members behind each ``(realm, old, new)`` rename (an IRC nick change).

    A suggestion, not a merge: a freed nick can be taken by someone else, so a curator decides, as
    for the same handle on two channels. Returns the aliases settled now (both identities exist);
    the others wait until the second identity speaks.
    """
    by_realm: dict[str, set[str]] = defaultdict(set)
    for realm, old, new in aliases:
        by_realm[realm] |= {old, new}
    members: dict[tuple[str, str], int] = {}
    for realm, keys in by_realm.items():
        for external_id, member_id in Identity.objects.filter(
            realm=realm, external_id__in=keys, is_bot=False
        ).values_list("external_id", "member_id"):
            members[(realm, external_id)] = member_id
    settled: set[tuple[str, str, str]] = set()
    suggestions: dict[tuple[int, int], MergeSuggestion] = {}
    for realm, old, new in aliases:
        a, b = members.get((realm, old)), members.get((realm, new))
        if a is None or b is None:
            continue
        settled.add((realm, old, new))
        if a != b:
            low, high = sorted((a, b))
            suggestions.setdefault(
                (low, high),
                MergeSuggestion(
                    member_a_id=low, member_b_id=high, reason=f"“{old}” is now known as “{new}” on {realm}"[:200]
                ),
            )
    if suggestions:
        MergeSuggestion.objects.bulk_create(list(suggestions.values()), ignore_conflicts=True)
    return settled


# ---------------------------------------------------------------- organisations and staff


def _organization_name_for(domain: str) -> str:
    label = domain.split(".")[0]
    return label[:1].upper() + label[1:]


def organizations_for_domains(*, domains: Iterable[str], create: bool = True) -> dict[str, Organization]:
    """Map each email domain to its Organization (sub-domains match their parent).

    Personal webmail domains (gmail.com, qq.com...) map to nothing and never create one.
    With ``create``, an unknown company domain creates an organisation named after it.
    """
    wanted = {d.lower() for d in domains if d and not is_personal_domain(d.lower())}
    if not wanted:
        return {}
    candidates = {c for d in wanted for c in domain_candidates(d)}
    known = {
        row.domain: row.organization
        for row in OrganizationDomain.objects.filter(domain__in=candidates).select_related("organization")
    }
    result: dict[str, Organization] = {}
    missing: dict[str, list[str]] = defaultdict(list)  # registrable domain -> the addresses' domains
    for domain in wanted:
        organization = next((known[c] for c in domain_candidates(domain) if c in known), None)
        if organization is not None:
            result[domain] = organization
        elif create:
            missing[registrable_domain(domain)].append(domain)
    if missing:
        proposed = {base: _organization_name_for(base) for base in missing}
        taken = set(
            Organization.objects.filter(name__in=[*proposed.values(), *proposed]).values_list("name", flat=True)
        )
        new_orgs: dict[str, Organization] = {}
        used: set[str] = set()
        for base, name in proposed.items():
            if name in taken or name in used:
                name = base if base not in taken else f"{base} ({len(used) + 1})"
            used.add(name)
            new_orgs[base] = Organization(name=name[:200])
        Organization.objects.bulk_create(list(new_orgs.values()))
        OrganizationDomain.objects.bulk_create(
            [OrganizationDomain(organization=org, domain=base) for base, org in new_orgs.items()]
        )
        for base, domains_of_base in missing.items():
            for domain in domains_of_base:
                result[domain] = new_orgs[base]
    return result


@transaction.atomic
def members_staff_refresh() -> int:
    """Re-mark staff from every member's email addresses (after teams or the company domains change).

    Returns how many members changed.
    """
    staff = StaffDirectory.load()
    marks: dict[int, tuple[bool, int | None]] = {}
    for member_id, email in Identity.objects.exclude(email="").values_list("member_id", "email").iterator():
        is_staff, team_id = staff.match(email)
        if is_staff and not marks.get(member_id, (False, None))[0]:
            marks[member_id] = (True, team_id)
    changed = []
    for member in Member.objects.only("pk", "is_staff", "team_id").iterator():
        is_staff, team_id = marks.get(member.pk, (False, None))
        if member.is_staff != is_staff or (is_staff and team_id and member.team_id != team_id):
            member.is_staff = is_staff
            member.team_id = team_id if is_staff else None
            changed.append(member)
    Member.objects.bulk_update(changed, ["is_staff", "team_id"], batch_size=1000)
    return len(changed)


# ---------------------------------------------------------------- merge, split, undo

_SNAPSHOT_FIELDS = (
    "display_name",
    "primary_email",
    "organization_id",
    "team_id",
    "is_staff",
    "is_bot",
    "first_seen",
    "last_seen",
    "created_at",
)


def _snapshot(member: Member) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in _SNAPSHOT_FIELDS:
        value = getattr(member, name)
        data[name] = value.isoformat() if isinstance(value, datetime) else value
    return data


def _restore(member: Member, data: dict[str, Any]) -> None:
    for name in _SNAPSHOT_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name in ("first_seen", "last_seen", "created_at") and value:
            value = datetime.fromisoformat(value)
        setattr(member, name, value)
    if member.organization_id and not Organization.objects.filter(pk=member.organization_id).exists():
        member.organization_id = None
    if member.team_id and not Team.objects.filter(pk=member.team_id).exists():
        member.team_id = None


def _merge(*, source: Member, target: Member, reason: str, by: User | None) -> MergeRecord:
    identity_ids = list(Identity.objects.filter(member=source).order_by("pk").values_list("pk", flat=True))
    snapshot = {
        "source": _snapshot(source),
        "target_before": _snapshot(target),
        # Earlier merges into the source lose their target when it is deleted; undo points them back.
        "records_into_source": list(MergeRecord.objects.filter(target=source).values_list("pk", flat=True)),
    }
    Identity.objects.filter(member=source).update(member=target)
    target.primary_email = target.primary_email or source.primary_email
    target.organization_id = target.organization_id or source.organization_id
    target.is_staff = target.is_staff or source.is_staff
    target.team_id = target.team_id or source.team_id
    target.is_bot = target.is_bot and source.is_bot
    target.first_seen = min((d for d in (target.first_seen, source.first_seen) if d), default=None)
    target.last_seen = max((d for d in (target.last_seen, source.last_seen) if d), default=None)
    target.save(
        update_fields=["primary_email", "organization", "is_staff", "team", "is_bot", "first_seen", "last_seen"]
    )
    record = MergeRecord.objects.create(
        action=MergeRecord.Action.MERGE,
        reason=reason,
        source_member_id=source.pk,
        target=target,
        identity_ids=identity_ids,
        snapshot=snapshot,
        by=by,
    )
    source_id = source.pk
    source.delete()
    source.pk = source_id
    log.info("merged member %s into %s (record %s, reason %s)", source_id, target.pk, record.pk, reason)
    return record


@transaction.atomic
def member_merge(
    *, source: Member, target: Member, by: User | None, reason: str = MergeRecord.Reason.MANUAL
) -> MergeRecord:
    """Move every identity of ``source`` to ``target`` and remove ``source``; undo with :func:`merge_undo`."""
    if source.pk == target.pk:
        raise TownsquareError("a member cannot be merged into itself", record=f"member {source.pk}")
    members = Member.objects.select_for_update().in_bulk([source.pk, target.pk])
    if len(members) != 2:
        raise TownsquareError("one of the two members no longer exists", record=f"member {source.pk}")
    return _merge(source=members[source.pk], target=members[target.pk], reason=reason, by=by)


@transaction.atomic
def member_split(*, member: Member, identity_ids: Iterable[int], by: User | None) -> MergeRecord:
    """Move the chosen identities of ``member`` to a new member; undo with :func:`merge_undo`."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    ids = sorted(set(identity_ids))
    own = list(Identity.objects.filter(member=member).order_by("pk"))
    chosen = [i for i in own if i.pk in ids]
    if not chosen or len(chosen) != len(ids):
        raise TownsquareError("choose identities that belong to this member", record=f"member {member.pk}")
    if len(chosen) == len(own):
        raise TownsquareError("leave at least one identity with the member", record=f"member {member.pk}")
    snapshot = {"source": _snapshot(member)}
    first = chosen[0]
    email = next((i.email for i in chosen if i.email_verified), "") or next((i.email for i in chosen if i.email), "")
    staff = StaffDirectory.load()
    is_staff, team_id = staff.match(email)
    organization = organizations_for_domains(domains=[email_domain(email)]).get(email_domain(email)) if email else None
    new = Member.objects.create(
        display_name=(first.display_name or first.handle or first.external_id)[:200],
        primary_email=email,
        organization=organization,
        is_staff=is_staff,
        team_id=team_id,
        is_bot=all(i.is_bot for i in chosen),
    )
    Identity.objects.filter(pk__in=ids).update(member=new)
    remaining_emails = [i.email for i in own if i.pk not in ids and i.email]
    if member.primary_email and member.primary_email not in remaining_emails:
        member.primary_email = remaining_emails[0] if remaining_emails else ""
        member.save(update_fields=["primary_email"])
    hooks.members_identities_moved.call(member_ids=[member.pk, new.pk])
    new.refresh_from_db(fields=["first_seen", "last_seen"])
    record = MergeRecord.objects.create(
        action=MergeRecord.Action.SPLIT,
        reason=MergeRecord.Reason.MANUAL,
        source_member_id=member.pk,
        target=new,
        identity_ids=ids,
        snapshot=snapshot,
        by=by,
    )
    log.info("split identities %s of member %s into %s (record %s)", ids, member.pk, new.pk, record.pk)
    return record


@transaction.atomic
def merge_undo(*, record: MergeRecord, by: User | None) -> Member:
    """Reverse a merge (the removed member comes back with its id) or a split. Returns the restored member."""
    record = MergeRecord.objects.select_for_update().get(pk=record.pk)
    label = f"history entry {record.pk}"
    if record.undone_at is not None:
        raise TownsquareError("this was already undone", record=label)
    if record.target_id is None:
        raise TownsquareError(
            "the member it involved is gone: undo the later merge first (or it was erased)", record=label
        )
    moved = Identity.objects.filter(pk__in=record.identity_ids)
    if moved.exclude(member_id=record.target_id).exists() or moved.count() != len(record.identity_ids):
        raise TownsquareError("its identities have moved since; undo the later merge or split first", record=label)
    target = Member.objects.select_for_update().get(pk=record.target_id)
    if record.action == MergeRecord.Action.MERGE:
        if Member.objects.filter(pk=record.source_member_id).exists():
            raise TownsquareError("the merged member exists again", record=label)
        restored = Member(pk=record.source_member_id)
        _restore(restored, record.snapshot.get("source", {}))
        created_at = restored.created_at
        restored.save(force_insert=True)  # auto_now_add stamps "now"; put the original date back
        if created_at:
            Member.objects.filter(pk=restored.pk).update(created_at=created_at)
            restored.created_at = created_at
        moved.update(member=restored)
        MergeRecord.objects.filter(pk__in=record.snapshot.get("records_into_source", []), target=None).update(
            target=restored
        )
        _restore(target, record.snapshot.get("target_before", {}))
        target.save()
    else:
        try:
            restored = Member.objects.select_for_update().get(pk=record.source_member_id)
        except Member.DoesNotExist:
            raise TownsquareError("the member it was split from is gone", record=label) from None
        moved.update(member=restored)
        _restore(restored, {k: v for k, v in record.snapshot.get("source", {}).items() if k != "created_at"})
        restored.save()
        if not Identity.objects.filter(member=target).exists():
            target.delete()
        hooks.members_identities_moved.call(member_ids=[restored.pk])
    record.undone_at = timezone.now()
    record.undone_by = by
    record.save(update_fields=["undone_at", "undone_by"])
    log.info("undid %s record %s", record.action, record.pk)
    return restored


@transaction.atomic
def merge_suggestion_accept(*, suggestion: MergeSuggestion, by: User | None) -> MergeRecord:
    """Merge the newer member of the pair into the older one (reason ``same_handle``)."""
    suggestion = MergeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != MergeSuggestion.Status.OPEN:
        raise TownsquareError(f"this suggestion was already {suggestion.status}", record=f"suggestion {suggestion.pk}")
    suggestion.status = MergeSuggestion.Status.ACCEPTED
    suggestion.decided_by = by
    suggestion.decided_at = timezone.now()
    suggestion.save()
    target_id, source_id = sorted((suggestion.member_a_id, suggestion.member_b_id))
    members = Member.objects.in_bulk([source_id, target_id])
    # The merge removes the source member, and the suggestion with it (cascade); the MergeRecord is the history.
    return member_merge(
        source=members[source_id], target=members[target_id], by=by, reason=MergeRecord.Reason.SAME_HANDLE
    )


@transaction.atomic
def merge_suggestion_reject(*, suggestion: MergeSuggestion, by: User | None) -> MergeSuggestion:
    suggestion = MergeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != MergeSuggestion.Status.OPEN:
        raise TownsquareError(f"this suggestion was already {suggestion.status}", record=f"suggestion {suggestion.pk}")
    suggestion.status = MergeSuggestion.Status.REJECTED
    suggestion.decided_by = by
    suggestion.decided_at = timezone.now()
    suggestion.save()
    return suggestion


# ---------------------------------------------------------------- GDPR


@transaction.atomic
def member_erase(*, member: Member, by: User | None, reason: str) -> ErasureRecord:
    """Delete the member, their identities and everything every app holds about them; keep only counts.

    The apps above people (sources' messages, ...) delete their rows through the ``member_erase`` hook,
    in this transaction: an erasure that fails anywhere leaves everything as it was. Merge history that
    names the member is removed too: its snapshots hold their name and email.
    """
    reason = reason.strip()
    if not reason:
        raise TownsquareError("say why (e.g. the request's ticket number)", record=f"member {member.pk}")
    member = Member.objects.select_for_update().get(pk=member.pk)
    identity_ids = list(Identity.objects.filter(member=member).values_list("pk", flat=True))
    removed: dict[str, int] = {}
    for _handler, counts in hooks.member_erase.call(member=member, identity_ids=identity_ids):
        for what, count in counts.items():
            removed[what] = removed.get(what, 0) + count
    history = MergeRecord.objects.filter(Q(source_member_id=member.pk) | Q(target=member))
    history_count = history.count()
    history.delete()
    digests = _suppression_digests(member=member, identity_ids=identity_ids)
    removed["suppressed keys"] = len(digests)
    Identity.objects.filter(pk__in=identity_ids).delete()
    member_id = member.pk
    member.delete()
    record = ErasureRecord.objects.create(
        member_id=member_id,
        identity_count=len(identity_ids),
        message_count=removed.get("messages", 0),
        merge_record_count=history_count,
        removed=removed,
        reason=reason[:500],
        by=by,
    )
    ErasureSuppression.objects.bulk_create(
        [ErasureSuppression(digest=digest, erasure=record) for digest in sorted(digests)], ignore_conflicts=True
    )
    log.info(
        "erased member %s: %d identities, %d messages (erasure %s)",
        member_id,
        len(identity_ids),
        record.message_count,
        record.pk,
    )
    return record


SUPPRESSION_SALT = "townsquare.people.erasure-suppression"


def suppression_digest(kind: str, value: str) -> str:
    """The keyed hash a suppression stores: without SECRET_KEY nobody can test an email against the list."""
    return salted_hmac(SUPPRESSION_SALT, f"{kind}\x1e{value}", algorithm="sha256").hexdigest()


def _ref_digests(*, realm: str, external_id: str, email: str) -> set[str]:
    digests = {suppression_digest("identity", f"{realm}\x1f{external_id}")}
    if email:
        digests.add(suppression_digest("email", email.strip().lower()))
    return digests


def _suppression_digests(*, member: Member, identity_ids: list[int]) -> set[str]:
    digests: set[str] = set()
    for realm, external_id, email in Identity.objects.filter(pk__in=identity_ids).values_list(
        "realm", "external_id", "email"
    ):
        digests |= _ref_digests(realm=realm, external_id=external_id, email=email)
    if member.primary_email:
        digests.add(suppression_digest("email", member.primary_email.strip().lower()))
    return digests


def identities_suppressed(*, refs: Iterable[IdentityRef]) -> set[tuple[str, str]]:
    """The keys of ``refs`` whose identity or email belongs to an erased person: their records must be skipped."""
    by_digest: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for ref in refs:
        clean = ref.normalised()
        for digest in _ref_digests(realm=clean.realm, external_id=clean.external_id, email=clean.email):
            by_digest[digest].add(ref.key)
    if not by_digest or not ErasureSuppression.objects.exists():
        return set()
    found: set[tuple[str, str]] = set()
    for chunk in chunked(list(by_digest)):
        for digest in ErasureSuppression.objects.filter(digest__in=chunk).values_list("digest", flat=True):
            found |= by_digest[digest]
    return found


def member_export(*, member: Member) -> dict[str, Any]:
    """Everything Townsquare holds about one person, as JSON-ready data (a GDPR access request).

    People's own rows come first; the apps above add their sections (sources: ``messages``) through
    the ``member_export`` hook.
    """
    identities = list(Identity.objects.filter(member=member).order_by("pk"))
    data: dict[str, Any] = {
        "format": "townsquare-member-export/1",
        "exported_at": timezone.now().isoformat(),
        "member": {
            "id": member.pk,
            "display_name": member.display_name,
            "primary_email": member.primary_email,
            "organization": member.organization.name if member.organization else None,
            "is_staff": member.is_staff,
            "is_bot": member.is_bot,
            "first_seen": member.first_seen.isoformat() if member.first_seen else None,
            "last_seen": member.last_seen.isoformat() if member.last_seen else None,
        },
        "identities": [
            {
                "id": i.pk,
                "realm": i.realm,
                "external_id": i.external_id,
                "handle": i.handle,
                "display_name": i.display_name,
                "email": i.email,
                "email_verified": i.email_verified,
                "created_at": i.created_at.isoformat(),
            }
            for i in identities
        ],
    }
    for _handler, sections in hooks.member_export.call(member=member):
        data.update(sections)
    return data
