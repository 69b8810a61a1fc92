from __future__ import annotations

from typing import Any

import pytest

from townsquare.metrics.health import onion
from townsquare.metrics.models import HealthFigures, HealthSnapshot
from townsquare.metrics.services import health as services
from townsquare.metrics.tests.conftest import Community

pytestmark = pytest.mark.django_db


def figures(snapshot: HealthSnapshot, source: Any = None) -> dict[str, Any]:
    return HealthFigures.objects.get(snapshot=snapshot, source=source).data


def month(f: dict[str, Any], series: list[Any], label: str) -> Any:
    return series[f["months"].index(label)]


@pytest.fixture
def snapshot(community: Community) -> HealthSnapshot:
    result = services.health_recompute()
    assert result is not None
    return result


def test_it_spans_every_month_from_the_first_message_to_the_last(snapshot: HealthSnapshot) -> None:
    f = figures(snapshot)
    assert f["months"][0] == "2023-06" and f["months"][-1] == "2024-04" and len(f["months"]) == 11
    assert snapshot.status == HealthSnapshot.Status.SUCCEEDED
    assert (snapshot.first_month, snapshot.last_month, snapshot.messages) == ("2023-06", "2024-04", 14)


def test_it_counts_contributors_per_month_with_staff_apart_and_bots_nowhere(snapshot: HealthSnapshot) -> None:
    f = figures(snapshot)
    assert month(f, f["contributors"]["community"], "2024-01") == 2  # alice, bob
    assert month(f, f["contributors"]["staff"], "2024-01") == 1  # carol
    assert month(f, f["contributors"]["community"], "2024-02") == 2  # alice, dave
    assert month(f, f["messages"]["bots"], "2024-01") == 1
    assert month(f, f["messages"]["community"], "2024-01") == 6
    assert month(f, f["messages"]["unknown"], "2024-03") == 1


def test_new_contributors_are_people_whose_first_message_ever_is_in_the_month(snapshot: HealthSnapshot) -> None:
    f = figures(snapshot)
    new = f["new_contributors"]["community"]
    # bob asked in January 2024 but first wrote in June 2023: he is new then, not in January.
    assert month(f, new, "2023-06") == 1
    assert month(f, new, "2024-01") == 1  # alice only
    assert month(f, new, "2024-02") == 1  # dave
    assert month(f, f["new_contributors"]["staff"], "2024-01") == 1
    assert sum(new) == 3


def test_per_channel_new_contributors_are_first_ever_messages_made_there(
    snapshot: HealthSnapshot, community: Community
) -> None:
    forum, slack = figures(snapshot, community.forum), figures(snapshot, community.slack)
    assert month(forum, forum["new_contributors"]["community"], "2024-01") == 1  # alice began on the forum
    assert month(slack, slack["new_contributors"]["community"], "2024-01") == 0
    assert month(slack, slack["new_contributors"]["community"], "2024-02") == 1  # dave
    # Before a channel's first message its series are gaps, not zeros.
    assert month(slack, slack["contributors"]["community"], "2023-12") is None
    assert month(slack, slack["contributors"]["community"], "2024-03") == 0


def test_inactive_contributors_are_silent_for_three_months_after_being_active(snapshot: HealthSnapshot) -> None:
    f = figures(snapshot)
    inactive = f["inactive_contributors"]
    assert [month(f, inactive, m) for m in ("2023-08", "2023-09", "2023-12", "2024-01", "2024-04")] == [0, 1, 1, 0, 1]


def test_retention_cohorts_count_people_back_after_30_and_90_days(snapshot: HealthSnapshot) -> None:
    cohorts = {r["month"]: r for r in figures(snapshot)["retention"]}
    assert cohorts["2023-06"] == {"month": "2023-06", "new": 1, "d30": 1, "d90": 1}  # bob came back in 2024
    # alice was back after 100 days, but the data ends before every January joiner had 90 days: a gap.
    assert cohorts["2024-01"] == {"month": "2024-01", "new": 1, "d30": 1, "d90": None}
    assert cohorts["2024-02"] == {"month": "2024-02", "new": 1, "d30": 0, "d90": None}  # dave never returned


def test_time_to_first_response_ignores_the_author_and_bots_and_splits_staff(snapshot: HealthSnapshot) -> None:
    f = figures(snapshot)
    t, jan = f["ttfr"], f["months"].index("2024-01")
    # T1: the bot (5 min) and alice's own note (30 min) don't count; carol (staff) answered after 2 h,
    # bob after 4 h. T2: alice answered bob after 48 h.
    assert (t["openers"][jan], t["answered"][jan]) == (2, 2)
    assert t["median_h"][jan] == 25.0
    assert t["p90_h"][jan] == pytest.approx(43.4)
    assert (t["by_staff"][jan], t["by_community"][jan]) == (1, 1)
    assert t["median_h_community"][jan] == 26.0  # 4 h and 48 h
    assert t["median_h_staff"][jan] == 2.0
    assert (t["within_24h"][jan], t["within_7d"][jan]) == (0.5, 1.0)
    feb = f["months"].index("2024-02")
    # dave's Slack thread (carol after 1 h) and alice's unanswered T3.
    assert (t["openers"][feb], t["answered"][feb], t["median_h"][feb], t["within_24h"][feb]) == (2, 1, 1.0, 0.5)
    assert t["median_h"][f["months"].index("2023-12")] is None


def test_unanswered_openers_are_listed_newest_first(snapshot: HealthSnapshot, community: Community) -> None:
    f = figures(snapshot)
    assert f["unanswered_count"] == 3  # the anonymous post, T3, and bob's 2023 post
    assert f["unanswered"][:2] == [community.anonymous.pk, community.t3.pk]


def test_absence_and_elephant_factors_and_the_onion_per_quarter(snapshot: HealthSnapshot) -> None:
    f = figures(snapshot)
    q = f["quarters"].index("2024Q1")
    # Q1 community messages: alice 5, bob 2, dave 1; carol (staff) 2.
    assert f["caf_community"][q] == 1 and f["caf_everyone"][q] == 1
    assert (f["core"][q], f["regular"][q], f["casual"][q]) == (2, 1, 0)
    # Affiliated: carol's 2 (the company itself) and dave's 1 (Acme): the company alone makes half.
    assert f["elephant"][q] == 1
    assert (f["organizations"][q], f["customer_organizations"][q]) == (1, 1)
    assert f["unaffiliated_share"][q] == 0.7 and f["customer_share"][q] == 0.1


def test_the_contributor_absence_factor_matches_the_chaoss_worked_example() -> None:
    import numpy as np

    from townsquare.metrics.health import _smallest_share

    values = np.array([1000, 202, 90, 33, 332, 343, 42, 433])
    assert _smallest_share(values, 0.5) == 2
    assert onion(np.array([80, 15, 5])) == (1, 1, 1)
    assert onion(np.array([], dtype=np.int64)) == (0, 0, 0)


def test_a_channel_without_messages_is_an_honest_empty_scope(snapshot: HealthSnapshot, community: Community) -> None:
    assert figures(snapshot, community.empty)["empty"] is True


def test_an_empty_workspace_computes_without_crashing(db: None) -> None:
    snapshot = services.health_recompute()
    assert snapshot is not None and snapshot.status == HealthSnapshot.Status.SUCCEEDED
    assert figures(snapshot)["empty"] is True


def test_a_queued_snapshot_is_claimed_once(community: Community, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queued, created = services.health_recompute_request(by=None)
        again, created_again = services.health_recompute_request(by=None)
    assert created and not created_again and again == queued and len(callbacks) == 1
    assert services.health_recompute(snapshot_id=queued.pk) is not None
    assert services.health_recompute(snapshot_id=queued.pk) is None  # a second worker finds it taken
    queued.refresh_from_db()
    assert queued.status == HealthSnapshot.Status.SUCCEEDED


def test_only_the_newest_snapshots_are_kept(community: Community) -> None:
    for _ in range(services.SNAPSHOTS_KEPT + 2):
        services.health_recompute()
    assert HealthSnapshot.objects.count() == services.SNAPSHOTS_KEPT
