"""People for the demo workspace: customer accounts from the sample CRM export and a few staff members."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from townsquare.people.crm import accounts_import_csv
from townsquare.people.refs import IdentityRef
from townsquare.people.services import identities_resolve, members_staff_refresh

SAMPLE_CRM_CSV = Path(__file__).resolve().parent / "demo_data" / "crm_accounts.csv"
# Demo staff who also talk in the community channels (their Townsquare email makes them staff).
STAFF_HANDLES = {"dana": "dana-okafor", "ari": "arilind"}


@transaction.atomic
def people_demo_load() -> dict[str, int]:
    """Import the sample CRM CSV and give two demo users community identities marked as staff (idempotent)."""
    report = accounts_import_csv(path_or_file=SAMPLE_CRM_CSV)
    users = get_user_model().objects.filter(username__in=STAFF_HANDLES).exclude(email="")
    refs = [
        IdentityRef(
            realm="github",
            external_id=f"demo-{user.username}",
            handle=STAFF_HANDLES[user.username],
            display_name=user.get_full_name() or user.username,
            email=user.email,
            email_verified=True,
        )
        for user in users
    ]
    identities = identities_resolve(refs=refs)
    members_staff_refresh()
    return {"accounts": report.created + report.updated + report.unchanged, "staff_members": len(identities)}
