"""Issue 17's "Done when" in a real browser: Value → Health, Channels and Downloads on the demo workspace.

The lead (dana) and the executive (erin) open every Value page; dana runs and saves a consolidation
scenario. ``TOWNSQUARE_SCREENSHOTS=1`` writes value-health, value-channels, value-scenario and
value-downloads to docs/screenshots/.

Every expected figure below was counted by hand from townsquare/sources/demo_data/acme/community.txt (a
post is "@<days before the load> <HH:MM UTC> <handle>"), not computed by the code under test. Staff are
dana-okafor, arilind, eli-novak and sam-patel (the demo users' addresses); acme-status is the bot. Acme's
dates count back from the day the demo was loaded, so which UTC calendar month a post falls in depends on
that day: the hand counts are kept as day offsets, and the test only places them in months.

* GitHub issues, New Contributors: people whose first Acme message anywhere (earliest @ line per handle,
  over all four channels) is a GitHub issue or comment: kwame-a (@68 11:30, roadmap#12), beatriz-s
  (@29 08:00, acme-python#209), zoe-k (@19 21:14, acme-cli#320), felix-m (@15 08:05, acme-cli#320). Every
  other GitHub author wrote on Slack, the forum or Q&A first. The month checked is the one of
  acme-python#212's opening (@13).
* GitHub issues, Time to First Response: for each issue opened by a community person, the first comment by
  anyone else (``GITHUB_OPENERS``; acme-cli#320 is opened by eli-novak, staff, and is left out). E.g.
  acme-python#212, opened by mkowalczyk @13 09:14, first answered by eli-novak @12 10:02: 24 h 48 min.
  acme-node#95, roadmap#29 and roadmap#31 have no reply. The month's median and 90th percentile are taken
  over its answered issues (linear interpolation between ranks, as CHAOSS' Augur and numpy do).
* Overlap, 12-month window (all of Acme's ten weeks): community people with a message on both GitHub and
  the forum: amara-o, ben-carver, chris-odell, daniel-w, hollisg, jonas-f, kwame-a, nina-p, victor-l,
  yuki-s = 10. Active community people per channel: GitHub 26, forum 25, Slack 49, Q&A 16.
* Scenario "retire Slack and Q&A, move to the forum": community people on Slack or Q&A = 54 (of 56 Acme
  community people, only lenaschmidt and marcus-j are on neither); 23 of them are on the forum already,
  31 must move; 15 are on Slack and/or Q&A only (aisha-m, dmitri-l, emily-tran, gracehuang, hannah-b,
  hwang-min, kimfoster, lucas-ferreira, mei-lin, oliverq, prof-ellis, rita-nw, sami-h, tariq-n,
  tomasz-w). Paying customer accounts among them, by e-mail domain against people/demo_data/crm_accounts.csv
  (Fernhollow University, prof-ellis's, is "Free / trial" and so not listed), in ``SCENARIO_CUSTOMERS``:
  Brightlattice has two people (jbaptiste, mkowalczyk); five accounts' only person is Slack-only and likely
  lost (Harbor & Finch rita-nw, Kestrel lucas-ferreira, Lumenfold dmitri-l, Northbay gracehuang, Tessellate
  kimfoster).
* Downloads: the PyPI fixture (metrics/demo_data/downloads/pypi-acme-cloud.json) starts on 2024-07-10;
  the demo shifts it so its last recording (2025-07-01) is the load day. Its first month is therefore
  partial, and its total is the sum of that month's days in the raw JSON, summed here with json alone.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import statistics
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from townsquare.sources.demo import acme_anchor
from townsquare.sources.models import Source

from . import GROUP

pytestmark = [pytest.mark.xdist_group(GROUP), pytest.mark.browser, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
GITHUB = "Acme Cloud GitHub issues (demo)"
FORUM = "Acme Cloud community forum (demo)"
SLACK = "Acme Cloud Slack (demo)"
QA = "Acme Cloud Q&A (demo)"
ACTIVE = {GITHUB: 26, FORUM: 25, SLACK: 49, QA: 16}
OVERLAP_GITHUB_FORUM = 10
GITHUB_NEWCOMERS = {
    "kwame-a": (68, "11:30"),
    "beatriz-s": (29, "08:00"),
    "zoe-k": (19, "21:14"),
    "felix-m": (15, "08:05"),
}
# (issue, opened, first reply by someone else or None, who replied): community openers only.
GITHUB_OPENERS = [
    ("acme-python#212", (13, "09:14"), (12, "10:02"), "staff"),
    ("acme-node#88", (7, "13:05"), (5, "09:40"), "community"),
    ("acme-node#90", (16, "10:22"), (15, "18:03"), "community"),
    ("acme-node#95", (5, "14:48"), None, None),
    ("acme-cli#331", (14, "10:10"), (13, "09:00"), "staff"),
    ("roadmap#12", (68, "11:30"), (55, "19:45"), "community"),
    ("roadmap#17", (25, "22:40"), (18, "20:02"), "community"),
    ("roadmap#23", (50, "14:00"), (44, "10:30"), "community"),
    ("roadmap#29", (15, "11:05"), None, None),
    ("roadmap#31", (19, "15:25"), None, None),
    ("acme-python#205", (34, "12:00"), (33, "08:45"), "staff"),
    ("acme-python#214", (6, "19:00"), (6, "19:30"), "staff"),
    ("acme-cli#335", (17, "11:40"), (17, "14:05"), "staff"),
    ("acme-python#209", (29, "08:00"), (28, "17:20"), "staff"),
]
SCENARIO = {"affected": "54", "must-move": "31", "only-retired": "15"}
# account -> (people on a retired channel, of them only on retired channels)
SCENARIO_CUSTOMERS = {
    "Atlas & Ivy Insurance": (1, 0),
    "Brightlattice Systems": (2, 0),
    "Cobaltline Telecom": (1, 0),
    "Drumlin Data Co-op": (1, 0),
    "Glimmerstack": (1, 0),
    "Harbor & Finch Logistics": (1, 1),
    "Kestrel Mobility": (1, 1),
    "Lumenfold Retail": (1, 1),
    "Northbay Credit Union": (1, 1),
    "Orrery Labs": (1, 0),
    "Quillmoor Analytics": (1, 0),
    "Sparrowgate Security": (1, 0),
    "Tessellate Health": (1, 1),
    "Velvet Anvil Games": (1, 0),
}
PYPI_FIXTURE = ROOT / "townsquare" / "metrics" / "demo_data" / "downloads" / "pypi-acme-cloud.json"
PYPI_LABEL = "Acme Cloud Python SDK (demo)"


def at(anchor: dt.date, when: tuple[int, str]) -> dt.datetime:
    days, clock = when
    hour, minute = (int(part) for part in clock.split(":"))
    day = anchor - dt.timedelta(days=days)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


def month_of(moment: dt.date | dt.datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), written out."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def exactly(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def figure_table(page: Any, title: str) -> dict[str, list[str]]:
    """A chart's "Figures as a table" as {row header: cells}, plus "" for the column headers."""
    panel = page.locator("section.panel").filter(has=page.locator("h2", has_text=exactly(title)))
    rows = panel.locator("details table tr")
    out: dict[str, list[str]] = {}
    for cells in rows.evaluate_all("rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))"):
        out[cells[0]] = cells[1:]
    return out


def stat(page: Any, label: str) -> str:
    """The value of a ``<dl class="stats">`` entry whose term reads ``label``."""
    return (
        page.locator("dl.stats > div")
        .filter(has=page.locator("dt", has_text=exactly(label)))
        .locator("dd")
        .inner_text()
    )


def test_the_lead_and_the_executive_see_hand_counted_value_figures_and_a_saved_scenario(
    demo_web: Any, demo_site_client: Client
) -> None:
    page = demo_web.page
    anchor = acme_anchor()
    sources = dict(Source.objects.filter(name__in=ACTIVE).values_list("name", "pk"))
    users = get_user_model().objects
    demo_site_client.force_login(users.get(username="dana"))

    # Value index links every page.
    assert demo_web.goto("/value/").status == 200
    for path in ("/value/health/", "/value/channels/", "/value/downloads/"):
        assert page.locator(f"a[href='{path}']").count() >= 1, path

    # Health, for the GitHub issues and the month acme-python#212 was opened in, chosen in the filter form.
    month = month_of(at(anchor, (13, "09:14")))
    assert demo_web.goto("/value/health/").status == 200
    page.select_option("select[name=source]", label=GITHUB)
    page.fill("input[name=start]", month)
    page.fill("input[name=end]", month)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*/value/health/\?.*end="))
    assert page.locator("#latest-title").inner_text().startswith(month)

    newcomers = sum(1 for when in GITHUB_NEWCOMERS.values() if month_of(at(anchor, when)) == month)
    assert stat(page, "New Contributors") == str(newcomers)
    assert figure_table(page, "New Contributors")[month] == [str(newcomers), "0"]

    openers = [o for o in GITHUB_OPENERS if month_of(at(anchor, o[1])) == month]
    answered = [o for o in openers if o[2] is not None]
    hours = [(at(anchor, o[2]) - at(anchor, o[1])).total_seconds() / 3600 for o in answered]
    assert (at(anchor, (12, "10:02")) - at(anchor, (13, "09:14"))) == dt.timedelta(hours=24, minutes=48)
    ttfr = figure_table(page, "Time to First Response")
    assert ttfr[month][:2] == [f"{statistics.median(hours):.2f}", f"{percentile(hours, 0.9):.2f}"], (openers, ttfr)
    by_community = sum(1 for o in answered if o[3] == "community")
    assert figure_table(page, "Who answered first")[month] == [str(by_community), str(len(answered) - by_community)]
    within = [o for o, h in zip(answered, hours, strict=True) if h <= 24]
    # The chart shows per cent to one decimal.
    assert (
        abs(
            float(figure_table(page, "Answered within 24 hours and 7 days")[month][0])
            - 100 * len(within) / len(openers)
        )
        < 0.06
    )
    demo_web.screenshot("value-health", full_page=False)

    # Channels: active people per Acme channel and the GitHub × forum overlap in the 12-month window.
    assert demo_web.goto("/value/channels/?window=12m").status == 200
    for name, people in ACTIVE.items():
        row = page.locator(f"#channels tr[data-source='{sources[name]}']")
        assert row.locator("td").first.inner_text() == str(people), name
    overlap = figure_table(page, "People active on both channels")
    columns = overlap[""]
    assert overlap[GITHUB][columns.index(FORUM)] == overlap[FORUM][columns.index(GITHUB)] == str(OVERLAP_GITHUB_FORUM)
    assert overlap[GITHUB][columns.index(GITHUB)] == str(ACTIVE[GITHUB])
    demo_web.screenshot("value-channels", full_page=False)

    # The simulator: tick Slack and Q&A, send their people to the forum.
    simulator = page.locator("#simulator")
    simulator.get_by_label(SLACK, exact=True).check()
    simulator.get_by_label(QA, exact=True).check()
    simulator.locator("select[name=to]").select_option(label=FORUM)
    simulator.get_by_role("button", name="Show the cost").click()
    page.wait_for_url(re.compile(r".*/value/channels/\?.*retire="))
    check_scenario(page)
    page.locator("#simulator").scroll_into_view_if_needed()
    demo_web.screenshot("value-scenario", full_page=False)

    # Saved as the lead, then opened from its own page and from the page's link.
    form = page.locator("form[action='/value/channels/scenarios/']")
    form.locator("input[name=name]").fill("Fold Slack and Q&A into the forum")
    form.get_by_role("button", name="Save scenario").click()
    page.wait_for_url(re.compile(r".*/value/channels/scenarios/\d+/$"))
    saved_url = page.url
    assert "Fold Slack and Q&A into the forum" in page.locator("h1").inner_text()
    check_scenario(page)
    link = page.locator("#simulator a", has_text="/value/channels/?").get_attribute("href")
    assert link is not None and demo_web.goto(link).status == 200
    check_scenario(page)

    # Downloads: the demo banner, the PyPI series' partial first month and a complete month, summed from the raw file.
    check_downloads(demo_web, anchor)
    demo_web.screenshot("value-downloads", full_page=False)
    assert demo_web.console_errors == []

    # The executive reads the same pages and the saved scenario, but cannot save or recompute.
    demo_site_client.force_login(users.get(username="erin"))
    assert demo_web.goto("/value/").status == 200
    assert demo_web.goto(f"/value/health/?source={sources[GITHUB]}&start={month}&end={month}").status == 200
    assert stat(page, "New Contributors") == str(newcomers)
    assert page.get_by_role("button", name=re.compile("Recompute")).count() == 0
    assert demo_web.goto("/value/channels/?window=12m").status == 200
    assert figure_table(page, "People active on both channels")[GITHUB][columns.index(FORUM)] == str(
        OVERLAP_GITHUB_FORUM
    )
    assert demo_web.goto(saved_url.removeprefix(demo_web.base_url)).status == 200
    check_scenario(page)
    assert page.get_by_role("button", name="Save scenario").count() == 0
    check_downloads(demo_web, anchor)
    assert page.get_by_role("button", name="Fetch now").count() == 0
    assert demo_web.console_errors == []


def check_scenario(page: Any) -> None:
    for element, expected in SCENARIO.items():
        assert page.locator(f"#{element}").inner_text() == expected, element
    shown = {}
    for cells in page.locator("#customers tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.children].map(c => c.textContent.trim()))"
    ):
        shown[cells[0]] = (int(cells[3]), int(cells[4]))
    assert shown == SCENARIO_CUSTOMERS


def check_downloads(demo_web: Any, anchor: dt.date) -> None:
    page = demo_web.page
    assert demo_web.goto("/value/downloads/").status == 200
    assert page.locator("p.notice[role=note]").inner_text().startswith("Demo data:")
    recordings = json.loads(PYPI_FIXTURE.read_text(encoding="utf-8"))["responses"]
    shift = anchor - max(dt.date.fromisoformat(r["recorded_on"]) for r in recordings)
    daily: dict[dt.date, int] = {}
    for recording in recordings:  # a later recording's day replaces an earlier one's
        for row in recording["body"]["data"]:
            daily[dt.date.fromisoformat(row["date"]) + shift] = row["downloads"]
    first = min(daily)
    assert first.day > 1  # the fixture starts mid-month, so its first month must be partial
    second = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    table = page.locator("section").filter(has=page.get_by_role("heading", name="Month by month")).locator("table")
    column = table.locator("thead th").all_inner_texts().index(PYPI_LABEL)
    for month, partial in ((first.replace(day=1), True), (second, False)):
        total = sum(n for day, n in daily.items() if day.replace(day=1) == month)
        row = table.locator("tbody tr").filter(has=page.locator("th", has_text=exactly(f"{month:%b %Y}")))
        cell = row.locator("th, td").nth(column)
        assert cell.inner_text().split()[0] == f"{total:,}", month
        assert (cell.locator(".tag", has_text="partial").count() == 1) is partial, month
