from __future__ import annotations

from typing import Any

import pytest

from townsquare.feedback.models import Theme
from townsquare.feedback.tests.support import feedback_workspace

pytestmark = pytest.mark.django_db


def test_readers_list_themes_and_devrel_curates_through_the_api(client_for: Any) -> None:
    ws = feedback_workspace()
    reader = client_for("executive")
    listed = reader.get("/api/v1/feedback/themes/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert {r["id"] for r in rows} >= {ws["export"].pk, ws["dark"].pk}
    assert (
        reader.post(
            f"/api/v1/feedback/themes/{ws['export'].pk}/curate/",
            {"action": "rename", "title": "x"},
            content_type="application/json",
        ).status_code
        == 403
    )
    curator = client_for("devrel_member")
    response = curator.post(
        f"/api/v1/feedback/themes/{ws['export'].pk}/curate/",
        {"action": "merge", "theme_ids": [ws["twin"].pk]},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["message_count"] == 5
    assert Theme.objects.get(pk=ws["twin"].pk).status == "merged"
    bad = curator.post(
        f"/api/v1/feedback/themes/{ws['export'].pk}/curate/",
        {"action": "link_issue", "url": "ftp://x"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    found = curator.get("/api/v1/feedback/search/", {"q": "dark mode"}).json()
    assert {m["id"] for m in found} == {m.pk for m in ws["messages"]["dark"]}
