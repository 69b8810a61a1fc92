"""Import customer accounts from a CRM export (CSV) with a column mapping and a dry run."""

from __future__ import annotations

import collections
import csv
import io
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any

from django.db import transaction

from townsquare.core.errors import TownsquareError
from townsquare.people.email_domains import is_personal_domain
from townsquare.people.models import Account, Member, Organization, OrganizationDomain

log = logging.getLogger(__name__)

FIELDS = ("crm_id", "name", "domains", "tier", "annual_revenue", "owner")
REQUIRED = ("crm_id", "name")
FIELD_LABELS = {
    "crm_id": "CRM id",
    "name": "Account name",
    "domains": "Domain(s) or website",
    "tier": "Customer tier",
    "annual_revenue": "Annual revenue",
    "owner": "Account owner",
}
# Header names CRMs commonly use (Salesforce, HubSpot, Pipedrive exports), compared lower-case without punctuation.
SYNONYMS = {
    "crm_id": {"crmid", "id", "accountid", "companyid", "recordid", "organizationid", "orgid", "customerid"},
    "name": {"name", "accountname", "companyname", "organization", "organisation", "company", "customer"},
    "domains": {"domain", "domains", "website", "companydomainname", "emaildomain", "emaildomains", "url", "web"},
    "tier": {"tier", "customertier", "plan", "type", "accounttype", "segment", "subscription", "level"},
    "annual_revenue": {"annualrevenue", "arr", "revenue", "annualrecurringrevenue", "acv", "contractvalue"},
    "owner": {"owner", "accountowner", "companyowner", "salesowner", "accountmanager", "ownername", "owneremail"},
}
TIER_WORDS = {
    "enterprise": Account.Tier.ENTERPRISE,
    "ent": Account.Tier.ENTERPRISE,
    "strategic": Account.Tier.ENTERPRISE,
    "business": Account.Tier.BUSINESS,
    "pro": Account.Tier.BUSINESS,
    "professional": Account.Tier.BUSINESS,
    "team": Account.Tier.TEAM,
    "teams": Account.Tier.TEAM,
    "standard": Account.Tier.TEAM,
    "startup": Account.Tier.STARTUP,
    "startups": Account.Tier.STARTUP,
    "free": Account.Tier.FREE,
    "trial": Account.Tier.FREE,
    "free / trial": Account.Tier.FREE,
    "community": Account.Tier.FREE,
}
_MULTIPLIERS = {
    "k": Decimal(1_000),
    "m": Decimal(1_000_000),
    "mm": Decimal(1_000_000),
    "b": Decimal(1_000_000_000),
    "bn": Decimal(1_000_000_000),
}
_DOMAIN_RE = re.compile(r"^(?=.{3,255}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass
class RowError:
    line: int
    reason: str
    crm_id: str = ""


@dataclass
class RowResult:
    line: int
    crm_id: str
    name: str
    action: str  # "create", "update" or "unchanged"
    changes: list[str] = field(default_factory=list)
    organization: str = ""


@dataclass
class ImportReport:
    dry_run: bool
    mapping: dict[str, str]
    rows: list[RowResult] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    organizations_created: int = 0
    members_linked: int = 0

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created(self) -> int:
        return self.count("create")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def mapping_guess(headers: list[str]) -> dict[str, str]:
    """Column -> field for the headers we recognise (each field used once)."""
    guessed: dict[str, str] = {}
    for header in headers:
        for name in FIELDS:
            if _key(header) in SYNONYMS[name] and name not in guessed.values():
                guessed[header] = name
                break
    return guessed


def parse_revenue(raw: str) -> Decimal:
    text = raw.strip().lower().replace(",", "").replace("_", "").replace(" ", "")
    text = re.sub(r"^(usd|eur|gbp|\$|€|£)|(usd|eur|gbp)$", "", text)
    if not text:
        return Decimal(0)
    multiplier = Decimal(1)
    suffix = re.search(r"(k|mm|m|bn|b)$", text)
    if suffix:
        multiplier = _MULTIPLIERS[suffix.group(1)]
        text = text[: suffix.start()]
    try:
        value = Decimal(text) * multiplier
    except InvalidOperation:
        raise ValueError(f"annual revenue {raw.strip()!r} is not a number") from None
    if not value.is_finite() or value < 0 or value >= Decimal(10) ** 12:
        raise ValueError(f"annual revenue {raw.strip()!r} is out of range")
    return value.quantize(Decimal("0.01"))


def parse_tier(raw: str) -> str:
    text = raw.strip().lower()
    if not text:
        return Account.Tier.TEAM
    if text in Account.Tier.values:
        return text
    for value, label in Account.Tier.choices:
        if text == str(label).lower():
            return value
    if text in TIER_WORDS:
        return TIER_WORDS[text]
    raise ValueError(f"unknown tier {raw.strip()!r} (expected {', '.join(Account.Tier.values)})")


def parse_domains(raw: str) -> list[str]:
    domains: list[str] = []
    for part in re.split(r"[\s,;|]+", raw.strip()):
        if not part:
            continue
        text = part.lower()
        text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
        text = text.split("/")[0].split("?")[0].split("#")[0].split(":")[0]
        text = text.split("@")[-1].strip(".")
        text = text.removeprefix("www.")
        if not _DOMAIN_RE.match(text):
            raise ValueError(f"{part!r} is not a domain")
        if is_personal_domain(text):
            raise ValueError(f"{text} is a personal email domain, not a company's")
        if text not in domains:
            domains.append(text)
    return domains


def _open(path_or_file: str | Path | IO[Any]) -> tuple[IO[str], bool]:
    if isinstance(path_or_file, (str, Path)):
        try:
            return open(path_or_file, encoding="utf-8-sig", newline=""), True
        except OSError as exc:
            raise TownsquareError(f"cannot read the file: {exc.strerror}", record=str(path_or_file)) from None
    data = path_or_file.read()
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            data = data.decode("cp1252", errors="replace")  # Excel exports on Windows
    return io.StringIO(data, newline=""), False


class _Lines:
    """The file's lines, numbered, able to read again the lines of a record that turned out malformed.

    A cell opened with a quote that is never closed swallows every line after it (``csv`` in its default,
    lenient mode returns them as one cell: an account named ``Broken "quote,x6.example``). Parsed strictly,
    such a record is an error; its first line is reported and the lines after it are read again as records.
    """

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.pending: collections.deque[str] = collections.deque()
        self.number = 0
        self.taken: list[str] = []  # the lines of the record being read

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.pending.popleft() if self.pending else next(self.handle)
        self.number += 1
        self.taken.append(line)
        return line

    def start(self) -> int:
        self.taken = []
        return self.number + 1

    def read_again_after_first(self) -> None:
        again = self.taken[1:]
        self.pending.extendleft(reversed(again))
        self.number -= len(again)
        self.taken = []


def _records(handle: IO[str]) -> Iterator[tuple[int, dict[str, str] | str]]:
    """(line, record) for each record after the header, or (line, why it is malformed); the header comes first."""
    sample = handle.read(8192)
    handle.seek(0)
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    lines = _Lines(handle)
    # Only the delimiter is guessed: the sniffer's other guesses (doublequote off) misread "" inside quotes.
    reader = csv.reader(lines, dialect=csv.excel, delimiter=delimiter, strict=True)
    headers: list[str] | None = None
    while True:
        line = lines.start()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            if headers is None:
                raise TownsquareError(f"the header line is not valid CSV: {exc}", record="line 1") from None
            yield line, f"not valid CSV ({exc}): a quote opened and never closed, or a stray quote?"
            lines.read_again_after_first()
            continue
        if not cells:
            continue  # a blank line
        if headers is None:
            headers = cells
            yield line, dict.fromkeys(headers, "")
            continue
        if len(cells) > len(headers):
            yield line, "more cells than columns"
            continue
        yield line, dict(zip(headers, cells + [""] * (len(headers) - len(cells)), strict=True))


def accounts_import_csv(
    *,
    path_or_file: str | Path | IO[Any],
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Create or update Accounts from a CRM CSV, keyed on the CRM id (re-importing changes nothing).

    ``mapping`` maps CSV column -> field (crm_id, name, domains, tier, annual_revenue, owner);
    columns it leaves out are guessed from common CRM header names. Each account is linked to
    the Organization owning one of its domains, or a new one. Bad rows are reported with their
    line number and skipped; good rows are imported. A dry run does the same work in a
    transaction that is rolled back, so its report is exactly what a real run would do.
    """
    handle, owned = _open(path_or_file)
    try:
        with transaction.atomic():
            report = _import(handle, dict(mapping or {}), dry_run, progress)
            if dry_run:
                transaction.set_rollback(True)
    finally:
        if owned:
            handle.close()
    log.info(
        "accounts import%s: %d created, %d updated, %d unchanged, %d bad rows",
        " (dry run)" if dry_run else "",
        report.created,
        report.updated,
        report.unchanged,
        len(report.errors),
    )
    return report


def _import(
    handle: IO[str], mapping: dict[str, str], dry_run: bool, progress: Callable[[int], None] | None
) -> ImportReport:
    records = _records(handle)
    head = next(records, None)
    headers = list(head[1]) if head else []
    unknown_fields = sorted(set(mapping.values()) - set(FIELDS))
    if unknown_fields:
        raise TownsquareError(
            f"unknown field(s) {', '.join(unknown_fields)}; fields are {', '.join(FIELDS)}", record="mapping"
        )
    missing_columns = sorted(set(mapping) - set(headers))
    if missing_columns and head is not None:
        raise TownsquareError(
            f"no column named {', '.join(repr(c) for c in missing_columns)} in the file", record="mapping"
        )
    for header, name in mapping_guess(headers).items():
        if header not in mapping and name not in mapping.values():
            mapping[header] = name
    column_for = {name: header for header, name in mapping.items()}
    lacking = [name for name in REQUIRED if name not in column_for]
    if lacking:
        raise TownsquareError(
            f"map a column to {', '.join(lacking)} (columns: {', '.join(headers) or 'none'})", record="mapping"
        )
    report = ImportReport(dry_run=dry_run, mapping={column_for[n]: n for n in FIELDS if n in column_for})
    seen: dict[str, int] = {}
    new_domains: list[str] = []

    for count, (line, record) in enumerate(records, start=1):
        if progress is not None and count % 100 == 0:
            progress(count)
        if isinstance(record, str):
            report.errors.append(RowError(line, record))
            continue

        def cell(name: str, record: dict[str, str] = record) -> str:
            return (record.get(column_for[name]) or "").strip() if name in column_for else ""

        crm_id = cell("crm_id")
        try:
            if not crm_id:
                raise ValueError("the CRM id is empty")
            if len(crm_id) > 100:
                raise ValueError("the CRM id is longer than 100 characters")
            if crm_id in seen:
                raise ValueError(f"CRM id {crm_id} already appears on line {seen[crm_id]}")
            name = cell("name")
            if not name:
                raise ValueError("the account name is empty")
            values: dict[str, Any] = {"name": name[:200], "owner": cell("owner")[:200]}
            if "tier" in column_for:
                values["tier"] = parse_tier(cell("tier"))
            if "annual_revenue" in column_for:
                values["annual_revenue"] = parse_revenue(cell("annual_revenue"))
            domains = parse_domains(cell("domains")) if "domains" in column_for else []
        except ValueError as exc:
            report.errors.append(RowError(line, str(exc), crm_id))
            continue
        seen[crm_id] = line
        try:
            with transaction.atomic():
                result, created_org = _upsert(crm_id=crm_id, values=values, domains=domains, line=line)
        except TownsquareError as exc:
            report.errors.append(RowError(line, exc.message, crm_id))
            continue
        if created_org:
            report.organizations_created += 1
        new_domains.extend(domains)
        report.rows.append(result)
    if progress is not None:
        progress(len(seen) + len(report.errors))
    report.members_linked = members_link_organizations(domains=new_domains)
    return report


def _upsert(*, crm_id: str, values: dict[str, Any], domains: list[str], line: int) -> tuple[RowResult, bool]:
    account = Account.objects.select_related("organization").filter(crm_id=crm_id).first()
    owners = {
        row.domain: row.organization
        for row in OrganizationDomain.objects.filter(domain__in=domains).select_related("organization")
    }
    organization = account.organization if account else None
    if organization is None:
        organization = next((owners[d] for d in domains if d in owners), None)
    for domain in domains:
        if domain in owners and organization is not None and owners[domain].pk != organization.pk:
            raise TownsquareError(f"domain {domain} belongs to another organisation, {owners[domain].name}")
    if organization is not None:
        other = Account.objects.filter(organization=organization).exclude(crm_id=crm_id).first()
        if other is not None:
            raise TownsquareError(f"organisation {organization.name} is already the account {other.crm_id}")
    created_org = False
    if organization is None and domains:
        organization = Organization.objects.filter(name=values["name"], account__isnull=True).first()
        if organization is None:
            name = values["name"]
            if Organization.objects.filter(name=name).exists():
                name = f"{name} ({crm_id})"[:200]
            organization = Organization.objects.create(name=name)
            created_org = True
    if organization is not None:
        OrganizationDomain.objects.bulk_create(
            [OrganizationDomain(organization=organization, domain=d) for d in domains if d not in owners]
        )
    if account is None:
        account = Account.objects.create(crm_id=crm_id, organization=organization, **values)
        return RowResult(
            line, crm_id, account.name, "create", organization=organization.name if organization else ""
        ), created_org
    changes = [name for name, value in values.items() if getattr(account, name) != value]
    if organization is not None and account.organization_id != organization.pk:
        changes.append("organization")
    new_domains = [d for d in domains if d not in owners]
    if new_domains:
        changes.append("domains")
    if changes:
        for name, value in values.items():
            setattr(account, name, value)
        account.organization = organization
        account.save()
    return RowResult(
        line,
        crm_id,
        account.name,
        "update" if changes else "unchanged",
        changes,
        organization.name if organization else "",
    ), created_org


def members_link_organizations(*, domains: list[str]) -> int:
    """Give members without an organisation the one their email domain now names. Returns how many."""
    linked = 0
    for domain in dict.fromkeys(domains):
        row = OrganizationDomain.objects.filter(domain=domain).first()
        if row is None:
            continue
        linked += Member.objects.filter(organization=None, identities__email__endswith="@" + domain).update(
            organization_id=row.organization_id
        )
    return linked
