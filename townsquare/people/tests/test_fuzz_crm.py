"""The CRM CSV importer under hypothesis: any bytes give a report (rows and per-row errors), never a crash."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from townsquare.core.errors import TownsquareError
from townsquare.people.crm import accounts_import_csv
from townsquare.people.models import Account
from townsquare.people.tests.test_crm import CSV

pytestmark = pytest.mark.django_db

CELLS = st.text(max_size=20) | st.sampled_from(
    ['"', '""', '"x', 'x"y', "\r", "\n", ";", "\t", "1e999", "-5", "gmail.com"]
)


@st.composite
def damaged_csv(draw: st.DrawFn) -> bytes:
    lines = CSV.splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 5))):
        where = draw(st.integers(1, len(lines)))
        action = draw(st.sampled_from(["row", "garble", "delete", "bytes"]))
        if action == "row":
            lines.insert(where, ",".join(draw(st.lists(CELLS, min_size=0, max_size=8))) + "\n")
        elif action == "delete" and where < len(lines):
            del lines[where]
        elif action == "garble" and where < len(lines):
            line = lines[where]
            cut = draw(st.integers(0, len(line)))
            lines[where] = line[:cut] + draw(CELLS) + line[cut:]
        else:
            lines.insert(where, draw(st.binary(max_size=20)).decode("latin-1"))
    text = "".join(lines)
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])), errors="replace")


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=damaged_csv())
def test_a_damaged_crm_export_gives_per_row_errors_and_never_crashes(data: bytes) -> None:
    try:
        report = accounts_import_csv(path_or_file=io.BytesIO(data), dry_run=True)
    except TownsquareError as exc:  # the header or the mapping is unusable: said, naming it
        assert exc.record and exc.message
        return
    for error in report.errors:
        assert error.line >= 2 and error.reason
    for row in report.rows:
        assert row.crm_id and row.name and "\n" not in row.crm_id
    assert not Account.objects.exists()  # a dry run
