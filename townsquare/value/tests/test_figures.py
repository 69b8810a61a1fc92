"""Every section's figures against the hand counts of corpus.py; empty quarters; goals and their outcomes."""

from __future__ import annotations

import pytest

from townsquare.core.errors import TownsquareError
from townsquare.value import services
from townsquare.value.models import Goal
from townsquare.value.sections import build_all

from .corpus import QUARTER, build_corpus

pytestmark = pytest.mark.django_db


def values(section: dict) -> dict:  # type: ignore[type-arg]
    return {key: f["value"] for key, f in section["figures"].items()}


def test_the_feedback_figures_match_the_hand_counts() -> None:
    build_corpus()
    feedback = build_all(QUARTER)["feedback"]
    assert feedback["empty"] is False
    assert values(feedback) == {
        "themes_active": 3,
        "themes_reported": 2,
        "themes_routed": 2,
        "themes_addressed": 2,
        "themes_addressed_enterprise": 1,
        "median_days_to_address": 40.0,
        "paying_customers": 2,
        "customer_revenue": 600_000.0,
        "addressed_customers": 2,
        "addressed_revenue": 600_000.0,
    }
    routed = {row[0]: row[1] for row in feedback["tables"][0]["rows"]}
    assert routed == {"Engineering": 1, "Support": 1, "Not routed yet": 1}
    addressed = feedback["tables"][1]["rows"]
    assert [row[3] for row in addressed] == [10, 70]


def test_the_request_figures_match_the_hand_counts() -> None:
    build_corpus()
    requests = build_all(QUARTER)["requests"]
    assert values(requests) == {
        "requests_served": 2,
        "requests_done": 2,
        "points_spent": 3,
        "points_allowance": 25,
        "mentoring_share": 33.3,
        "teams_self_sufficient": 1,
    }
    own = requests["tables"][1]
    assert [row[:2] for row in own["rows"]] == [["Marketing", "Content"]]
    trend = requests["charts"][0]["series"][0]["values"]
    assert trend == [None, None, None, 33.3]  # the three quarters before had no points: gaps, not zeros


def test_the_board_figures_match_the_hand_counts() -> None:
    build_corpus()
    credit = build_all(QUARTER)["credit"]
    assert values(credit) == {"tasks_done": 1, "collaborators_credited": 2, "credits": 1, "thanks": 2,
                              "teams_credited": 2}  # fmt: skip
    assert {row[0]: row[1:] for row in credit["tables"][0]["rows"]} == {"Support": [1, 1, 1], "Engineering": [0, 1, 1]}


def test_a_quarter_without_data_has_honest_empty_sections() -> None:
    built = build_all(QUARTER.previous())
    for key, section in built.items():
        assert section["empty"] is True, key
        assert section["figures"] == {}, key
        assert QUARTER.previous().label in section["empty_reason"] or "snapshot" in section["empty_reason"], key


def test_a_goal_is_measured_against_its_figure() -> None:
    build_corpus()
    services.goal_create(quarter=QUARTER, text="Close enterprise gaps", figure="themes_addressed_enterprise",
                         comparator="gte", target="3", company_goal="Grow enterprise revenue")  # fmt: skip
    services.goal_create(quarter=QUARTER, text="Mentor teams", figure="mentoring_share", comparator="gte", target=30)
    services.goal_create(quarter=QUARTER, text="Answer fast", figure="ttfr_slowest_median_h", comparator="lte",
                         target=24)  # fmt: skip
    services.goal_create(quarter=QUARTER, text="Be loved")
    goals = services.value_report_build_draft(quarter=QUARTER).data["goals"]
    assert [(g["value"], g["met"]) for g in goals] == [(1, False), (33.3, True), (None, None), (None, None)]
    assert (
        goals[2]["reason"] == "Cannot be computed: No community-health snapshot has been computed yet (Value → Health)."
    )
    assert goals[3]["reason"].startswith("No measurable target")


def test_a_goal_with_a_bad_target_is_refused_with_the_reason() -> None:
    with pytest.raises(TownsquareError, match="not a number"):
        services.goal_create(quarter=QUARTER, text="Grow", figure="downloads", comparator="gte", target="lots")
    with pytest.raises(TownsquareError, match="needs a figure"):
        services.goal_create(quarter=QUARTER, text="Grow", comparator="gte", target="3")
    with pytest.raises(TownsquareError, match="unknown figure"):
        services.goal_create(quarter=QUARTER, text="Grow", figure="vibes")
    assert not Goal.objects.exists()


def test_a_goal_whose_figure_left_the_registry_says_so() -> None:
    Goal.objects.create(quarter=QUARTER.key, text="Old goal", figure="retired_figure")
    goal = services.value_report_build_draft(quarter=QUARTER).data["goals"][0]
    assert goal["reason"] == "The figure 'retired_figure' no longer exists in Townsquare; choose another."
