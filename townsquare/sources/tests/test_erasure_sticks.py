"""An erased person stays erased: no later import or sync recreates their identity or messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from townsquare.people.models import ErasureSuppression, Identity, Member
from townsquare.people.services import member_erase
from townsquare.sources import services
from townsquare.sources.models import Message, SyncError, SyncRun
from townsquare.sources.tests.factories import SourceFactory
from townsquare.sources.tests.test_ingest import msg, slack_zip

pytestmark = pytest.mark.django_db


def export(path: Path, team: str = "T1", user_id: str = "U1") -> Path:
    users = [
        {
            "id": user_id,
            "team_id": team,
            "name": "ana",
            "real_name": "Ana Lima",
            "profile": {"email": "Ana@Example.org"},
        },
        {"id": "U2", "team_id": team, "name": "bo", "real_name": "Bo Park", "profile": {}},
    ]
    days = {
        "general/2024-01-01.json": [
            msg("1704067200.000100", "ana's secret plans", user=user_id),
            msg("1704067260.000200", "bo says hi", user="U2"),
        ]
    }
    return slack_zip(path, days, users=users)


def test_a_reimport_skips_an_erased_persons_identity_and_messages(tmp_path: Path) -> None:
    path = export(tmp_path / "export.zip")
    services.archive_import(source=SourceFactory(kind="slack_export"), path=path)
    ana = Identity.objects.get(handle="ana").member
    record = member_erase(member=ana, by=None, reason="ticket 42")
    assert record.removed["suppressed keys"] == 2  # the slack identity and the email
    digests = list(ErasureSuppression.objects.values_list("digest", flat=True))
    assert all("ana" not in d.lower() and "example" not in d for d in digests)

    again = services.archive_import(source=SourceFactory(kind="slack_export"), path=path)  # the same archive
    other = services.archive_import(  # the same person in another workspace, known by the same email
        source=SourceFactory(kind="slack_export"), path=export(tmp_path / "other.zip", team="T9", user_id="U7")
    )
    for run in (again, other):
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        assert (run.new, run.unchanged, run.rejected) == (1, 1, 0)
        notes = list(SyncError.objects.filter(run=run).values_list("record", "reason"))
        assert notes == [("erased people", "skipped: 1 record(s) by people erased on request")]
    assert not Identity.objects.filter(handle="ana").exists()
    assert not Member.objects.filter(display_name="Ana Lima").exists()
    assert not Message.objects.filter(body__contains="secret").exists()
    assert Message.objects.filter(body="bo says hi").count() == 3
