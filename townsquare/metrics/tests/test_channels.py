from __future__ import annotations

from typing import Any

import pytest

from townsquare.metrics.channels import scenario_run
from townsquare.metrics.models import ChannelMap
from townsquare.metrics.services import health as services
from townsquare.metrics.tests.conftest import Community

pytestmark = pytest.mark.django_db


@pytest.fixture
def all_time(community: Community) -> dict[str, Any]:
    snapshot = services.health_recompute()
    return ChannelMap.objects.get(snapshot=snapshot, window="all").data


def by_source(data: dict[str, Any], source: Any) -> dict[str, Any]:
    return next(r for r in data["channels"] if r["source"] == source.pk)


def test_the_map_counts_people_messages_newcomers_and_core_per_channel(
    all_time: dict[str, Any], community: Community
) -> None:
    forum, slack, empty = (by_source(all_time, s) for s in (community.forum, community.slack, community.empty))
    assert all_time["people"] == 3  # alice, bob, dave; carol is staff, the bot nobody
    assert (forum["people"], forum["staff"], forum["messages"]) == (2, 1, 7)
    assert (slack["people"], slack["staff"], slack["messages"]) == (2, 1, 3)
    assert empty == {**empty, "people": 0, "messages": 0, "only_here": 0}
    assert (forum["entry"], slack["entry"]) == (2, 1)  # bob and alice began on the forum, dave on Slack
    assert (forum["only_here"], slack["only_here"]) == (1, 1)  # bob, dave


def test_the_overlap_matrix_counts_people_on_both_channels(all_time: dict[str, Any], community: Community) -> None:
    i, j = all_time["sources"].index(community.forum.pk), all_time["sources"].index(community.slack.pk)
    k = all_time["sources"].index(community.empty.pk)
    assert all_time["overlap"][i][j] == all_time["overlap"][j][i] == 1  # alice
    assert all_time["overlap"][i][i] == 2 and all_time["overlap"][k] == [0, 0, 0]


def test_the_last_three_months_window_only_counts_recent_people(community: Community) -> None:
    snapshot = services.health_recompute()
    recent = ChannelMap.objects.get(snapshot=snapshot, window="3m").data
    assert (recent["from"], recent["to"]) == (recent["to"] - 2, recent["to"])
    assert (recent["people"], recent["newcomers"]) == (2, 1)  # alice and dave wrote in February to April
    assert (by_source(recent, community.slack)["people"], by_source(recent, community.forum)["people"]) == (2, 1)


def test_retiring_slack_into_the_forum_moves_dave_and_risks_acme(
    all_time: dict[str, Any], community: Community
) -> None:
    result = scenario_run(all_time, retire=[community.slack.pk], destination=community.forum.pk)
    assert (result.people, result.affected, result.already_there, result.must_move) == (3, 2, 1, 1)
    assert result.only_retired == 1  # dave is only on Slack
    assert result.customers_affected == {community.acme.pk: 1}
    assert result.customers_at_risk == {community.acme.pk: 1}
    assert (result.channels_before_mean, result.channels_after_mean) == (1.33, 1.0)
    assert (result.channels_before_median, result.channels_after_median) == (1.0, 1.0)


def test_adding_a_new_channel_is_one_more_place_for_everyone(all_time: dict[str, Any]) -> None:
    result = scenario_run(all_time, retire=[], destination=None)
    assert (result.affected, result.channels_before_mean, result.channels_after_mean) == (0, 1.33, 2.33)


def test_retiring_both_into_a_new_channel_loses_nobody_but_moves_everyone(
    all_time: dict[str, Any], community: Community
) -> None:
    result = scenario_run(all_time, retire=[community.forum.pk, community.slack.pk], destination=None)
    assert (result.affected, result.must_move, result.only_retired) == (3, 3, 3)
    assert result.channels_after_mean == 1.0


def test_a_scenario_on_an_empty_map_is_all_zero() -> None:
    result = scenario_run({"sources": [], "empty": True}, retire=[1], destination=None)
    assert (result.people, result.affected) == (0, 0)
