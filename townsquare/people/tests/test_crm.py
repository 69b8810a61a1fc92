from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from townsquare.core.errors import TownsquareError
from townsquare.people.crm import accounts_import_csv, parse_domains, parse_revenue
from townsquare.people.demo import SAMPLE_CRM_CSV
from townsquare.people.models import Account, Member, Organization
from townsquare.people.services import member_for_new_identity
from townsquare.people.tests.factories import OrganizationDomainFactory

pytestmark = pytest.mark.django_db

CSV = """\
Acct #,Company,Web,Plan,ARR (USD),Rep
A-1,Brightlattice Systems,https://www.brightlattice.io/,Enterprise,"$1,250,000",Sofia
A-2,Glimmerstack,glimmerstack.dev,Startup,36k,Noor
A-3,Bad Money Inc,badmoney.com,Team,lots,Noor
A-4,Odd Tier Ltd,oddtier.com,Platinum,100,Noor
,No Id Co,noid.com,Team,1,Noor
A-2,Duplicate,dup.com,Team,1,Noor
A-7,Webmail Co,gmail.com,Team,1,Noor
"""
MAPPING = {
    "Acct #": "crm_id",
    "Company": "name",
    "Web": "domains",
    "Plan": "tier",
    "ARR (USD)": "annual_revenue",
    "Rep": "owner",
}


def run(text: str = CSV, *, dry_run: bool = False, mapping: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return accounts_import_csv(
        path_or_file=io.BytesIO(text.encode()), mapping=MAPPING if mapping is None else mapping, dry_run=dry_run
    )


def test_it_imports_accounts_and_reports_each_bad_row_with_its_line() -> None:
    report = run()
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert [(e.line, e.reason) for e in report.errors] == [
        (4, "annual revenue 'lots' is not a number"),
        (5, "unknown tier 'Platinum' (expected enterprise, business, team, startup, free)"),
        (6, "the CRM id is empty"),
        (7, "CRM id A-2 already appears on line 3"),
        (8, "gmail.com is a personal email domain, not a company's"),
    ]
    bright = Account.objects.get(crm_id="A-1")
    assert (bright.tier, bright.annual_revenue, bright.owner) == ("enterprise", Decimal("1250000.00"), "Sofia")
    assert list(bright.organization.domains.values_list("domain", flat=True)) == ["brightlattice.io"]
    assert Account.objects.get(crm_id="A-2").annual_revenue == Decimal("36000.00")


def test_a_dry_run_reports_the_same_and_changes_nothing() -> None:
    report = run(dry_run=True)
    assert (report.created, len(report.errors), report.organizations_created) == (2, 5, 2)
    assert Account.objects.count() == 0 and Organization.objects.count() == 0


def test_it_re_imports_idempotently_and_updates_changed_rows() -> None:
    run()
    again = run()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = run(CSV.replace("Startup,36k", "Business,48k"))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    assert sorted(changed.rows[1].changes) == ["annual_revenue", "tier"]
    assert Account.objects.count() == 2 and Organization.objects.count() == 2


def test_it_links_an_account_to_the_organisation_that_owns_its_domain_and_its_members() -> None:
    identity = member_for_new_identity(realm="github", external_id="1", email="ana@glimmerstack.dev")
    org = identity.member.organization
    run()
    assert Account.objects.get(crm_id="A-2").organization == org
    assert Member.objects.get(pk=identity.member_id).organization.account.tier == "startup"


def test_it_links_members_seen_before_their_organisation_existed() -> None:
    member = member_for_new_identity(realm="github", external_id="1", email="ana@gmail.com").member
    member_for_new_identity(realm="gitlab", external_id="1", email="ana@brightlattice.io")  # creates the org
    Member.objects.filter(pk=member.pk).update(organization=None)
    Organization.objects.all().delete()
    from townsquare.people.models import Identity

    Identity.objects.filter(realm="gitlab").update(member=member)
    report = run()
    assert report.members_linked == 1
    member.refresh_from_db()
    assert member.organization.account.crm_id == "A-1"


def test_it_rejects_a_domain_owned_by_another_customer() -> None:
    OrganizationDomainFactory(domain="brightlattice.io", organization__name="Someone")
    run("id,name,domain\nZ-1,Someone Else,someone.io\n", mapping={})
    report = run("id,name,domain\nZ-1,Someone Else,someone.io brightlattice.io\n", mapping={})
    assert [e.reason for e in report.errors] == ["domain brightlattice.io belongs to another organisation, Someone"]


def test_it_guesses_the_mapping_from_common_crm_headers() -> None:
    report = accounts_import_csv(path_or_file=SAMPLE_CRM_CSV, mapping={}, dry_run=True)
    assert report.mapping == {
        "Account ID": "crm_id",
        "Account Name": "name",
        "Website": "domains",
        "Customer Tier": "tier",
        "Annual Revenue": "annual_revenue",
        "Account Owner": "owner",
    }
    assert report.errors == [] and report.created == 18


def test_it_explains_a_mapping_it_cannot_use() -> None:
    with pytest.raises(TownsquareError, match="map a column to crm_id"):
        run("foo,bar\n1,2\n", mapping={})
    with pytest.raises(TownsquareError, match="no column named 'Nope'"):
        run(mapping={"Nope": "crm_id"})


def test_it_parses_revenue_and_domains() -> None:
    assert parse_revenue("€2.4M") == Decimal("2400000.00")
    assert parse_revenue("") == Decimal(0)
    with pytest.raises(ValueError, match="out of range"):
        parse_revenue("-5")
    assert parse_domains("https://www.acme.co.uk/about; acme.com, ACME.com") == ["acme.co.uk", "acme.com"]
    with pytest.raises(ValueError, match="not a domain"):
        parse_domains("not a domain!")


def test_the_command_imports_with_a_mapping_and_a_dry_run(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text(CSV, encoding="utf-8")
    out = io.StringIO()
    maps = [f"--map={column}={name}" for column, name in MAPPING.items()]
    call_command("accounts", "import", str(path), *maps, "--dry-run", stdout=out)
    assert "Would create 2" in out.getvalue() and "Dry run" in out.getvalue()
    assert "unknown tier 'Platinum'" in out.getvalue()
    assert Account.objects.count() == 0
    call_command("accounts", "import", str(path), *maps, stdout=io.StringIO())
    assert Account.objects.count() == 2


def test_the_command_refuses_a_bad_mapping(tmp_path: Path) -> None:
    path = tmp_path / "crm.csv"
    path.write_text(CSV, encoding="utf-8")
    with pytest.raises(CommandError, match="COLUMN=FIELD"):
        call_command("accounts", "import", str(path), "--map", "Acct #=nonsense")
    with pytest.raises(CommandError, match="no such file"):
        call_command("accounts", "import", str(tmp_path / "missing.csv"))


def test_an_unterminated_quote_is_a_named_row_error_and_the_rows_after_it_are_imported() -> None:
    text = (
        "crm_id,name,domains\n"
        "x5,Fine Co,x5.example\n"
        'x6,"Broken ""quote,x6.example\n'  # opened, never closed: it swallowed the rest of the file
        "x7,After Co,x7.example\n"
        'x8,"Stray" quote,x8.example\n'
        "x9,Last Co,x9.example\n"
    )
    report = run(text, mapping={})
    assert [(e.line, e.reason.split(" (")[0]) for e in report.errors] == [(3, "not valid CSV"), (5, "not valid CSV")]
    assert "quote" in report.errors[0].reason
    assert sorted(Account.objects.values_list("crm_id", "name")) == [
        ("x5", "Fine Co"),
        ("x7", "After Co"),
        ("x9", "Last Co"),
    ]


def test_an_unterminated_quote_on_the_last_line_is_an_error_not_an_account() -> None:
    report = run('crm_id,name,domains\nx5,Fine Co,x5.example\nx6,"Broken ""quote,x6.example\n', mapping={})
    assert [e.line for e in report.errors] == [3]
    assert list(Account.objects.values_list("name", flat=True)) == ["Fine Co"]
