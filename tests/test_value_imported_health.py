"""Issue 17's "Done when" on a workspace imported from ../shared/data: the Urho3D Discourse archive.

The archive (``discourse/urho3d/t/<slug>.<id>.json.gz``, 356 topics, 2021-01 to 2022-11; see
../shared/data/README.md) goes through ``townsquare import discourse_archive``, the health recompute service
runs, and the Health page, filtered to the forum and one month, is read as the lead reads it; then the
Channels page (all time: its active people) and the Downloads page (nothing tracked: an empty state).

The expected figures are computed here from the raw files with gzip and json only, not with our parsers:

* New Contributors in 2021-06: users (``user_id``; negative ids are Discourse's system users, bots)
  whose earliest post in the whole archive is in June 2021. Nobody is staff: staff are matched by e-mail
  and a Discourse topic carries none.
* Time to First Response in 2021-06: for every topic opened in June 2021 (post 1 by a human), the first
  later post by any other human. That month has an odd number of answered topics, so its median is one
  topic's own response time: the test names that topic and checks the page shows its figure.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from django.core.management import call_command

from townsquare.core.roles import Role
from townsquare.metrics.services import health as health_services
from townsquare.sources.models import Source

pytestmark = pytest.mark.django_db

ARCHIVE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "discourse" / "urho3d" / "t"
NAME = "Urho3D forum"
MONTH = "2021-06"
# Found by the count below: the middle of the month's 17 answered topics (2.05 h to the first reply).
MEDIAN_TOPIC = "flowing-texture-uv-animations.6894"


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)  # Python 3.11 reads the "Z"


def conversation(topic: dict[str, Any]) -> list[dict[str, Any]]:
    """The topic's posts without small actions ("closed this topic") and whispers, which are not messages."""
    return [p for p in topic["post_stream"]["posts"] if p.get("post_type") not in (3, 4)]


def raw_figures(month: str) -> dict[str, Any]:
    """New contributors and per-topic first-response delays of ``month``, straight from the JSON files."""
    first_post: dict[int, dt.datetime] = {}
    delays: list[tuple[float, str]] = []  # (hours, topic slug.id) for the month's answered topics
    openers = 0
    for path in sorted(ARCHIVE.glob("*.json.gz")):
        topic = json.loads(gzip.decompress(path.read_bytes()))
        posts = [p for p in conversation(topic) if p["user_id"] >= 0]
        for post in posts:
            created = when(post["created_at"])
            if post["user_id"] not in first_post or created < first_post[post["user_id"]]:
                first_post[post["user_id"]] = created
        opener = next((p for p in posts if p["post_number"] == 1), None)
        if opener is None or not opener["created_at"].startswith(month):
            continue
        openers += 1
        opened = when(opener["created_at"])
        replies = [when(p["created_at"]) for p in posts if p["user_id"] != opener["user_id"]]
        replies = [r for r in replies if r >= opened]
        if replies:
            delays.append(((min(replies) - opened).total_seconds() / 3600, f"{topic['slug']}.{topic['id']}"))
    new = sum(1 for created in first_post.values() if f"{created:%Y-%m}" == month)
    return {"new": new, "openers": openers, "delays": sorted(delays), "people": len(first_post)}


def p90(values: list[float]) -> float:
    rank = (len(values) - 1) * 0.9
    low, high = math.floor(rank), math.ceil(rank)
    return values[low] + (values[high] - values[low]) * (rank - low)


def chart_table(page: BeautifulSoup, title: str) -> dict[str, list[str]]:
    heading = page.find("h2", string=title)
    assert heading is not None, title
    table = heading.find_parent("section").find("details").find("table")
    return {
        row.find_all(["th", "td"])[0].get_text(strip=True): [c.get_text(strip=True) for c in row.find_all("td")]
        for row in table.find("tbody").find_all("tr")
    }


@pytest.mark.skipif(not ARCHIVE.is_dir(), reason=f"the shared archives are not here: {ARCHIVE} is missing")
def test_an_imported_forum_shows_a_months_new_contributors_and_response_times_counted_from_the_raw_files(
    client_for: Any,
) -> None:
    call_command("import", "discourse_archive", str(ARCHIVE), "--name", NAME, stdout=io.StringIO())
    snapshot = health_services.health_recompute()
    assert snapshot is not None
    expected = raw_figures(MONTH)
    hours = [h for h, _ in expected["delays"]]
    assert len(hours) % 2 == 1, "the month was picked for its odd number of answered topics"
    median_hours, median_topic = expected["delays"][len(hours) // 2]
    assert median_topic == MEDIAN_TOPIC

    source = Source.objects.get(name=NAME)
    response = client_for(Role.DEVREL_LEAD).get("/value/health/", {"source": source.pk, "start": MONTH, "end": MONTH})
    assert response.status_code == 200
    page = BeautifulSoup(response.content, "html.parser")

    assert chart_table(page, "New Contributors")[MONTH] == [str(expected["new"]), "0"]
    ttfr = chart_table(page, "Time to First Response")[MONTH]
    assert ttfr[:2] == [f"{median_hours:.2f}", f"{p90(hours):.2f}"], (median_topic, expected["delays"])
    # Everyone who answered first is community here (no staff), and every month's topic is an opener.
    assert chart_table(page, "Who answered first")[MONTH] == [str(len(hours)), "0"]
    assert snapshot.messages == sum(
        len(conversation(json.loads(gzip.decompress(p.read_bytes())))) for p in ARCHIVE.glob("*.json.gz")
    )
    assert expected["openers"] >= len(hours)

    # Channels, all time: every human who posted is an active person of the one channel, and only there.
    channels = client_for(Role.DEVREL_LEAD).get("/value/channels/", {"window": "all"})
    assert channels.status_code == 200
    row = next(r for r in channels.context["rows"] if r["name"] == NAME)
    assert (row["people"], row["only_here"], row["staff"]) == (expected["people"], expected["people"], 0)
    # Downloads: nothing tracked on an imported workspace, and the page says so rather than show zeros.
    downloads = client_for(Role.DEVREL_LEAD).get("/value/downloads/")
    assert downloads.status_code == 200 and "No packages tracked" in downloads.content.decode()
