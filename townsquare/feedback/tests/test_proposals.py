"""Re-grouping proposals on real MiniLM vectors: a right merge is proposed, a wrong one is not."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from townsquare.feedback import services
from townsquare.feedback.models import Proposal, Theme, ThemeMessage
from townsquare.feedback.services import regrouping
from townsquare.feedback.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db

EXPORT = [
    "CSV export drops rows that contain commas in quoted fields",
    "Exporting to CSV loses every row with a comma inside quotes",
    "The CSV export is missing rows when a field has a comma",
    "Rows with commas disappear from the CSV export",
]
# The same problem in other words, as incremental assignment can leave it in a theme of its own.
EXPORT_TWIN = [
    "CSV download skips lines that have commas in them",
    "Commas in a field break the CSV export and the row goes missing",
    "Our exported spreadsheet is short: every line with a comma is gone",
]
# Another problem of the same feature: the export is slow. Related words, a different fix.
EXPORT_SLOW = [
    "The CSV export takes ten minutes for a large project",
    "Exporting a big project to CSV times out after a few minutes",
    "CSV export is very slow when there are many rows",
]


def _theme(title: str, texts: list[str], channels: list[Any]) -> Theme:
    """A theme holding exactly these messages (embedded and classified for real), as assignment might leave it."""
    messages = [MessageFactory(body=text, channel=channels[i % 3]) for i, text in enumerate(texts)]
    ids = [m.pk for m in messages]
    services.messages_embed(message_ids=ids)
    services.messages_classify(message_ids=ids)
    theme = Theme.objects.create(title=title)
    for message in messages:
        ThemeMessage.objects.create(theme=theme, message=message)
    services.theme_refresh(theme_ids=[theme.pk])
    theme.refresh_from_db()
    return theme


def _open_merges() -> set[frozenset[int]]:
    return {frozenset(p.theme_ids) for p in Proposal.objects.filter(status="open", kind="merge")}


DARK = ["Please add a dark mode to the dashboard", "Dark mode for the dashboard would be great"]
DARK_TWIN = [
    "A dark theme for the web dashboard, please",
    "The dashboard is far too bright at night, we need a dark mode",
]


def test_a_paraphrase_theme_is_proposed_for_a_merge_and_a_related_problem_is_not(channels: list[Any]) -> None:
    export = _theme("export", EXPORT, channels)
    twin = _theme("twin", EXPORT_TWIN, channels)
    _theme("slow", EXPORT_SLOW, channels)  # same feature, another problem: never proposed
    before = dict(ThemeMessage.objects.values_list("message_id", "theme_id"))

    services.themes_recluster()

    assert _open_merges() == {frozenset((export.pk, twin.pk))}
    proposal = Proposal.objects.get(status="open")
    assert proposal.theme_ids == [export.pk, twin.pk]  # the bigger theme absorbs the other
    assert proposal.reason.startswith("Same subject: their centres are")
    assert dict(ThemeMessage.objects.values_list("message_id", "theme_id")) == before


def test_a_coarse_group_alone_does_not_make_a_merge(channels: list[Any]) -> None:
    """Even when re-grouping puts all three themes in one group, only the paraphrases are proposed."""
    export = _theme("export", EXPORT, channels)
    twin = _theme("twin", EXPORT_TWIN, channels)
    slow = _theme("slow", EXPORT_SLOW, channels)
    window = list(
        ThemeMessage.objects.order_by("message_id").values_list("message_id", "theme_id", "pinned_by_curator")
    )
    vectors = services.vectors_for([m for m, _, _ in window])
    matrix = np.stack([vectors[m] for m, _, _ in window])
    one_group = np.zeros(len(window), dtype=np.int64)  # what the share rule alone used to propose from

    found = regrouping._merge_proposals(window, matrix, one_group)

    assert [set(p.theme_ids) for _, p in found] == [{export.pk, twin.pk}]
    assert found[0][0] >= services.MERGE_MIN_SIMILARITY
    slow_centre, export_centre = (regrouping._theme_centres(window, matrix)[t.pk] for t in (slow, export))
    assert float(slow_centre @ export_centre) < services.MERGE_MIN_SIMILARITY


def test_only_the_strongest_proposals_stay_open(channels: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    export = _theme("export", EXPORT, channels)
    twin = _theme("twin", EXPORT_TWIN, channels)
    dark = _theme("dark", DARK, channels)
    dark_twin = _theme("dark twin", DARK_TWIN, channels)
    services.themes_recluster()
    assert _open_merges() == {frozenset((export.pk, twin.pk)), frozenset((dark.pk, dark_twin.pk))}
    alike = [int(p.reason.split("centres are ")[1].split("%")[0]) for p in Proposal.objects.filter(status="open")]
    # the inbox lists the newest first (the model's ordering): the strongest proposal comes first there
    assert alike == sorted(alike, reverse=True) and alike[0] > alike[1]
    first = Proposal.objects.filter(status="open").first()
    assert first is not None

    monkeypatch.setattr(regrouping, "MAX_OPEN_PROPOSALS", 1)
    services.themes_recluster()
    (kept,) = Proposal.objects.filter(status="open")
    assert frozenset(kept.theme_ids) == frozenset(first.theme_ids)


def test_a_theme_holding_two_subjects_is_proposed_for_a_split_and_a_tight_one_is_not(channels: list[Any]) -> None:
    mixed = _theme("mixed", EXPORT + DARK + DARK_TWIN, channels)
    tight = _theme("tight", EXPORT_TWIN + EXPORT_SLOW[:1], channels)

    services.themes_recluster()

    (split,) = Proposal.objects.filter(status="open", kind="split")  # none for the tight theme
    assert split.theme_ids == [mixed.pk] and tight.pk not in split.theme_ids
    moved = set(split.message_ids)
    dark_ids = set(
        ThemeMessage.objects.filter(theme=mixed, message__body__in=DARK + DARK_TWIN).values_list(
            "message_id", flat=True
        )
    )
    export_ids = set(
        ThemeMessage.objects.filter(theme=mixed, message__body__in=EXPORT).values_list("message_id", flat=True)
    )
    assert moved in (dark_ids, export_ids)
    assert "recent messages form their own group" in split.reason
