from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from townsquare.core.errors import TownsquareError
from townsquare.feedback import selectors, services
from townsquare.feedback.models import (
    Classification,
    ClassifierVersion,
    CurationAction,
    Embedding,
    ProcessingFailure,
    Proposal,
    ScoreWeights,
    Theme,
    ThemeMessage,
)
from townsquare.feedback.pipeline import embed
from townsquare.feedback.services import embedding
from townsquare.feedback.tests.factories import (
    AccountFactory,
    IdentityFactory,
    MemberFactory,
    MessageFactory,
)

pytestmark = pytest.mark.django_db

EXPORT = [
    "CSV export drops rows that contain commas in quoted fields",
    "Exporting to CSV loses every row with a comma inside quotes",
    "The CSV export is missing rows when a field has a comma",
    "Rows with commas disappear from the CSV export",
]
DARK = [
    "Please add a dark mode to the dashboard",
    "Dark mode for the dashboard would be great",
    "Feature request: dark theme for the web dashboard",
]


def _people_fixture(channels: list[Any]) -> tuple[Theme, dict[str, Any]]:
    """Hand-counted: 5 people (Dave has two identities), 2 paying customers, 3 channels; staff and bot excluded."""
    github, discourse, slack = channels
    acme = AccountFactory(tier="enterprise", annual_revenue=1_000_000, organization__name="Acme")
    beta = AccountFactory(tier="business", annual_revenue=200_000, organization__name="Beta")
    free_org = AccountFactory(tier="free", annual_revenue=0, organization__name="Hobby").organization
    alice = IdentityFactory(member__organization=acme.organization)
    bob = IdentityFactory(member__organization=acme.organization)
    carol = IdentityFactory(member__organization=beta.organization)
    dave_member = MemberFactory()
    dave_gh = IdentityFactory(member=dave_member)
    dave_slack = IdentityFactory(member=dave_member, realm="slack:T1")
    frank = IdentityFactory(member__organization=free_org)
    staff = IdentityFactory(member__is_staff=True, member__organization=acme.organization)
    bot = IdentityFactory(is_bot=True)
    now = timezone.now()
    rows = [
        (alice, github, 1),
        (alice, discourse, 2),
        (alice, slack, 3),
        (bob, slack, 1),
        (carol, discourse, 9),
        (dave_gh, github, 10),
        (dave_slack, slack, 12),
        (frank, github, 2),
        (staff, github, 1),
        (bot, slack, 1),
    ]
    theme = Theme.objects.create(title="Export drops rows")
    for identity, channel, days in rows:
        message = MessageFactory(author=identity, channel=channel, created_at=now - dt.timedelta(days=days))
        ThemeMessage.objects.create(theme=theme, message=message)
    return theme, {"now": now}


def test_it_counts_distinct_people_not_messages(channels: list[Any]) -> None:
    theme, ctx = _people_fixture(channels)
    stats = selectors.stats_for(list(selectors.theme_messages(theme)), now=ctx["now"])
    assert stats.messages == 10
    assert stats.people == 5  # alice, bob, carol, dave (two identities), frank
    assert stats.staff_or_bot_messages == 2


def test_it_counts_paying_customers_by_tier_and_excludes_free_and_staff(channels: list[Any]) -> None:
    theme, ctx = _people_fixture(channels)
    stats = selectors.stats_for(list(selectors.theme_messages(theme)), now=ctx["now"])
    assert stats.customers == 2
    assert stats.customers_by_tier == {"enterprise": 1, "business": 1}
    assert stats.revenue == 1_200_000
    assert stats.channels == 3


def test_the_lean_counts_of_many_themes_agree_with_the_counts_of_one(channels: list[Any]) -> None:
    theme, ctx = _people_fixture(channels)
    empty = Theme.objects.create(title="Nothing yet")
    lean = selectors.theme_stats([theme.pk, empty.pk], now=ctx["now"])
    assert lean[theme.pk] == selectors.stats_for(list(selectors.theme_messages(theme)), now=ctx["now"])
    assert (lean[theme.pk].people, lean[theme.pk].customers, lean[theme.pk].channels) == (5, 2, 3)
    assert lean[empty.pk].messages == 0 and lean[empty.pk].first_seen is None


def test_a_sweep_remakes_title_and_phrases_only_when_a_theme_has_grown_by_a_quarter(channels: list[Any]) -> None:
    theme, _ = _people_fixture(channels)
    services.theme_refresh(theme_ids=[theme.pk], incremental=True)
    theme.refresh_from_db()
    assert theme.phrases_count == 10 and theme.title != "Export drops rows"
    Theme.objects.filter(pk=theme.pk).update(title="As the sweep left it")

    def add(count: int) -> Theme:
        for _ in range(count):
            ThemeMessage.objects.create(theme=theme, message=MessageFactory(channel=channels[0]))
        services.theme_refresh(theme_ids=[theme.pk], incremental=True)
        return Theme.objects.get(pk=theme.pk)

    grown = add(2)  # 12 < 10 x 1.25: counts follow, the words wait
    assert (grown.message_count, grown.phrases_count, grown.title) == (12, 10, "As the sweep left it")
    grown = add(1)  # 13 >= 12.5
    assert grown.phrases_count == 13 and grown.title != "As the sweep left it"
    Theme.objects.filter(pk=theme.pk).update(title="As the sweep left it")
    services.theme_refresh(theme_ids=[theme.pk])  # a curator's change refreshes everything at once
    assert Theme.objects.get(pk=theme.pk).title != "As the sweep left it"


def test_it_computes_the_visible_score_formula_by_hand(channels: list[Any]) -> None:
    theme, ctx = _people_fixture(channels)
    stats = selectors.stats_for(list(selectors.theme_messages(theme)), now=ctx["now"])
    # this week (<= 7 days): alice, bob, frank; last week (8-14 days): carol, dave
    assert (stats.people_this_week, stats.people_last_week) == (3, 2)
    weights = ScoreWeights()
    parts = selectors.score_parts(stats, weights, now=ctx["now"])
    base = 1.0 * 5 + 5.0 + 3.0 + 1.0 * math.log10(1 + 1_200_000 / 10_000)
    expected = base * (1 + 0.25 * 2) * 0.5 ** (1 / 14) * (1 + 0.5 * 0.5)
    assert parts["score"] == pytest.approx(expected, rel=1e-3)


def test_the_lead_sets_the_weights_and_scores_follow(channels: list[Any], make_user: Any) -> None:
    theme, _ = _people_fixture(channels)
    lead = make_user("devrel_lead")
    services.theme_refresh(theme_ids=[theme.pk])
    before = Theme.objects.get(pk=theme.pk).score
    services.score_weights_update(by=lead, tier_enterprise=50.0)
    services.themes_refresh_all()
    assert Theme.objects.get(pk=theme.pk).score > before
    assert CurationAction.objects.filter(action="weights", by=lead).exists()
    with pytest.raises(TownsquareError):
        services.score_weights_update(by=lead, person=-1)


def _process(texts: list[str], channels: list[Any], **kwargs: Any) -> list[Any]:
    messages = [
        MessageFactory(body=text, channel=channels[i % len(channels)], **kwargs) for i, text in enumerate(texts)
    ]
    services.messages_process(message_ids=[m.pk for m in messages])
    return messages


def test_it_groups_feedback_across_channels_and_seeds_new_themes(channels: list[Any]) -> None:
    export = _process(EXPORT, channels)
    dark = _process(DARK, channels)
    export_themes = {m.feedback_assignment.theme_id for m in export}
    dark_themes = {m.feedback_assignment.theme_id for m in dark}
    assert len(export_themes) == 1 and len(dark_themes) == 1 and export_themes != dark_themes
    theme = Theme.objects.get(pk=export_themes.pop())
    assert theme.channel_count == 3 and theme.people_count == 4
    assert "csv" in theme.title.lower()
    assert Classification.objects.get(message=dark[0]).kind == "feature"


def test_it_embeds_each_message_version_once(channels: list[Any]) -> None:
    (message,) = _process(EXPORT[:1], channels)
    services.messages_embed(message_ids=[message.pk])
    assert Embedding.objects.filter(message=message).count() == 1
    message.body = "The CSV export now also drops the header row"
    message.version = 2
    message.save()
    services.messages_embed(message_ids=[message.pk])
    assert list(Embedding.objects.filter(message=message).values_list("message_version", flat=True)) == [2]
    assert services.messages_pending() == [message.pk]


def test_bad_input_neither_crashes_nor_pollutes_themes(channels: list[Any]) -> None:
    binary = bytes(range(1, 256)).decode("latin-1") * 20
    messages = _process(["", binary, "word " * 50_000, "Экспорт в CSV теряет строки с запятыми"], channels)
    kinds = dict(Classification.objects.values_list("message_id", "kind"))
    assert kinds[messages[0].pk] == kinds[messages[1].pk] == "not_feedback"
    assert not ThemeMessage.objects.filter(message__in=messages[:2]).exists()
    assert services.messages_pending() == []


def test_bots_and_pull_requests_are_not_embedded(channels: list[Any]) -> None:
    bot = MessageFactory(body=EXPORT[0], author=IdentityFactory(is_bot=True))
    pr = MessageFactory(body=EXPORT[1], kind="pull_request")
    services.messages_process(message_ids=[bot.pk, pr.pk])
    assert not Embedding.objects.exists()
    assert set(Classification.objects.values_list("kind", flat=True)) == {"not_feedback"}


def test_chatter_is_screened_out_before_embedding_and_recorded_as_not_feedback(channels: list[Any]) -> None:
    thread = MessageFactory(
        kind="chat", body="Export to CSV keeps failing with a timeout after 30s", channel=channels[2]
    )
    replies = [
        MessageFactory(
            kind="chat",
            body=body,
            channel=channels[2],
            thread_external_id=thread.external_id,
            parent_external_id=thread.external_id,
        )
        for body in (
            "thanks!",
            "+1",
            "lol that is hilarious mate",
            "how do I raise the timeout for exports",
            "see you all at the meetup",
        )
    ]
    result = services.messages_process(message_ids=[thread.pk] + [m.pk for m in replies])
    embedded = set(Embedding.objects.values_list("message_id", flat=True))
    # the problem report and the reply that asks something go on; acknowledgements and chatter do not
    assert embedded == {thread.pk, replies[3].pk}
    assert result.skipped == 4
    kinds = dict(Classification.objects.values_list("message_id", "kind"))
    assert {kinds[m.pk] for m in [replies[0], replies[2], replies[4]]} == {"not_feedback"}
    # a bare "+1" under a feedback opener is one more person with the problem: it joins the opener's theme
    assert kinds[replies[1].pk] == kinds[thread.pk] != "not_feedback"
    assert replies[1].feedback_assignment.theme_id == thread.feedback_assignment.theme_id
    assert services.messages_pending() == []  # screened messages are done, not retried


def test_a_curators_merge_survives_regrouping(channels: list[Any], make_user: Any) -> None:
    curator = make_user("devrel_member")
    export = _process(EXPORT, channels)
    dark = _process(DARK, channels)
    target = export[0].feedback_assignment.theme
    source = dark[0].feedback_assignment.theme
    services.themes_merge(target=target, sources=[source], by=curator)
    services.themes_recluster()
    source.refresh_from_db()
    assert source.status == Theme.Status.MERGED and source.merged_into_id == target.pk
    assert set(ThemeMessage.objects.filter(message__in=export + dark).values_list("theme_id", flat=True)) == {target.pk}
    assert not [p for p in Proposal.objects.filter(status="open") if target.pk in p.theme_ids and p.kind == "split"]
    assert CurationAction.objects.filter(action="merge", theme=target, by=curator).exists()


def test_regrouping_proposes_a_merge_and_never_moves_anything(channels: list[Any]) -> None:
    export = _process(EXPORT, channels)
    theme = export[0].feedback_assignment.theme
    # A second theme holding paraphrases of the same problem, as incremental assignment might leave it.
    twin = Theme.objects.create(title="CSV rows lost", centroid=theme.centroid)
    more = [
        MessageFactory(body=t, channel=channels[0])
        for t in ["CSV export loses rows with commas", "Commas in fields break the CSV export, rows go missing"]
    ]
    services.messages_embed(message_ids=[m.pk for m in more])
    services.messages_classify(message_ids=[m.pk for m in more])
    for m in more:
        ThemeMessage.objects.create(theme=twin, message=m)
    before = dict(ThemeMessage.objects.values_list("message_id", "theme_id"))
    result = services.themes_recluster()
    assert dict(ThemeMessage.objects.values_list("message_id", "theme_id")) == before
    assert result.proposals >= 1
    proposal = Proposal.objects.get(status="open", kind="merge")
    assert set(proposal.theme_ids) == {theme.pk, twin.pk}


def test_a_dismissed_merge_is_not_proposed_again(channels: list[Any], make_user: Any) -> None:
    curator = make_user("devrel_member")
    export = _process(EXPORT, channels)
    theme = export[0].feedback_assignment.theme
    twin = Theme.objects.create(title="twin", centroid=theme.centroid)
    moved = export[2:]
    ThemeMessage.objects.filter(message__in=moved).update(theme=twin)
    services.themes_recluster()
    proposal = Proposal.objects.get(status="open", kind="merge")
    services.proposal_decide(proposal=proposal, accept=False, by=curator)
    services.themes_recluster()
    assert not Proposal.objects.filter(status="open", kind="merge").exists()


def test_split_and_move_pin_messages_and_are_logged(channels: list[Any], make_user: Any) -> None:
    curator = make_user("devrel_member")
    export = _process(EXPORT, channels)
    theme = export[0].feedback_assignment.theme
    new = services.theme_split(theme=theme, message_ids=[export[3].pk], title="Commas", by=curator)
    assert ThemeMessage.objects.get(message=export[3]).theme_id == new.pk
    assert ThemeMessage.objects.get(message=export[3]).pinned_by_curator
    services.message_move(message=export[2], theme=new, by=curator)
    assert Theme.objects.get(pk=new.pk).message_count == 2
    services.themes_recluster()
    assert ThemeMessage.objects.get(message=export[2]).theme_id == new.pk
    assert list(CurationAction.objects.filter(by=curator).values_list("action", flat=True).order_by("at", "id")) == [
        "split",
        "move",
    ]
    with pytest.raises(TownsquareError):
        services.theme_split(theme=theme, message_ids=[export[0].pk, export[1].pk], title="", by=curator)


def test_curators_annotate_route_link_and_address(channels: list[Any], make_user: Any) -> None:
    from townsquare.feedback.tests.factories import TeamFactory

    curator = make_user("devrel_member")
    theme = Theme.objects.create(title="t")
    services.theme_rename(theme=theme, title="Export loses rows", by=curator)
    services.theme_annotate(theme=theme, why_now="Two enterprise renewals this month", by=curator)
    services.theme_route(theme=theme, department=TeamFactory(name="Engineering", slug="engineering"), by=curator)
    services.theme_link_issue(theme=theme, url="https://github.com/acme/app/issues/12", by=curator)
    services.theme_mark_addressed(theme=theme, release="4.3.0", by=curator)
    theme.refresh_from_db()
    assert (theme.title, theme.title_curated, theme.status, theme.addressed_release) == (
        "Export loses rows",
        True,
        "addressed",
        "4.3.0",
    )
    assert CurationAction.objects.filter(theme=theme).count() == 5
    with pytest.raises(TownsquareError):
        services.theme_link_issue(theme=theme, url="javascript:alert(1)", by=curator)


def test_corrections_retrain_the_classifier(channels: list[Any], make_user: Any) -> None:
    curator = make_user("devrel_member")
    (message,) = _process(["Our team loves the new importer"], channels)
    services.classification_correct(message=message, kind="feature", by=curator)
    version = services.classifier_train()
    assert version.curated_examples == 1 and version.seed_examples >= 150
    assert ClassifierVersion.objects.count() == 2
    services.messages_classify(message_ids=[message.pk])
    assert Classification.objects.get(message=message).kind == "feature"  # curated labels are kept


def test_more_like_this_finds_the_same_question_on_other_channels(channels: list[Any]) -> None:
    export = _process(EXPORT, channels)
    _process(DARK, channels)
    similar = services.more_like_this(message=export[0], limit=3)
    assert {m.pk for m, _ in similar} <= {m.pk for m in export[1:]}
    assert len(similar) == 3


def test_more_like_this_reads_what_the_sweep_saved_since_and_never_writes_the_index(
    channels: list[Any], settings: Any
) -> None:
    from pathlib import Path

    from townsquare.feedback import vectors

    export = [MessageFactory(body=text, channel=channels[i % 3]) for i, text in enumerate(EXPORT)]
    services.messages_process(message_ids=[m.pk for m in export[:2]])
    web = vectors.get_index()  # a web process that read the file early
    assert {m.pk for m, _ in services.more_like_this(message=export[0])} == {export[1].pk}
    worker = vectors.FileVectorIndex(Path(settings.FEEDBACK_VECTOR_PATH))  # the worker's sweep, in another process
    vectors._indexes[str(Path(settings.FEEDBACK_VECTOR_PATH))] = worker
    services.messages_process(message_ids=[m.pk for m in export[2:]])  # saves the file
    vectors._indexes[str(Path(settings.FEEDBACK_VECTOR_PATH))] = web
    assert {m.pk for m, _ in services.more_like_this(message=export[0])} == {m.pk for m in export[1:]}
    # A message not processed yet is embedded for the search only: nothing is stored or indexed.
    fresh = MessageFactory(body=EXPORT[0] + " Still failing today.", channel=channels[1])
    found = services.more_like_this(message=fresh, limit=2)
    assert len(found) == 2 and {m.pk for m, _ in found} <= {m.pk for m in export}
    assert not Embedding.objects.filter(message=fresh).exists() and len(web) == 4 and not web._dirty


def test_the_demo_loader_processes_pending_messages_once(channels: list[Any]) -> None:
    from townsquare.feedback.demo import feedback_demo_load

    for i, text in enumerate(EXPORT + DARK):
        MessageFactory(body=text, channel=channels[i % 3])
    first = feedback_demo_load()
    assert first["messages processed"] == 7 and first["themes"] == 2
    assert feedback_demo_load()["messages processed"] == 0


def test_a_sweep_stops_at_its_limit_and_the_next_one_continues(channels: list[Any]) -> None:
    messages = [MessageFactory(body=text, channel=channels[i % 3]) for i, text in enumerate(EXPORT + DARK)]
    seen: list[int] = []
    assert services.messages_process_pending(batch=2, limit=4, on_batch=lambda done, _: seen.append(done)) == 4
    assert seen == [2, 4]
    assert services.messages_pending_count() == 3
    assert services.messages_pending() == [m.pk for m in messages[4:]]
    assert services.messages_process_pending(batch=2) == 3
    assert services.messages_pending_count() == 0


def test_a_sweep_refreshes_the_themes_it_touched_once_at_its_end(channels: list[Any]) -> None:
    for i, text in enumerate(EXPORT):
        MessageFactory(body=text, channel=channels[i % 3])
    themes_during: list[list[tuple[int, int]]] = []

    def during(done: int, result: services.BatchResult) -> None:
        themes_during.append(list(Theme.objects.values_list("message_count", "people_count")))

    services.messages_process_pending(batch=2, on_batch=during)
    # Between batches the people counts wait (they cost in proportion to the theme, not the batch);
    # the message count and the centre are kept as running figures by assignment ...
    assert themes_during[0] == [(2, 0)]
    # ... and at the end of the sweep the theme has its counts, title and phrases.
    theme = Theme.objects.get()
    assert (theme.message_count, theme.people_count, theme.channel_count) == (4, 4, 3)
    assert theme.key_phrases and "csv" in theme.title.lower()


def test_vectors_the_index_file_lost_in_a_crash_come_back_from_the_database(channels: list[Any]) -> None:
    from townsquare.feedback import vectors

    messages = [MessageFactory(body=text, channel=channels[i % 3]) for i, text in enumerate(EXPORT + DARK)]
    services.messages_process(message_ids=[m.pk for m in messages[:4]])  # saved to the index file
    services.messages_process(message_ids=[m.pk for m in messages[4:]], bulk=True)  # not saved yet: then a crash
    assert Embedding.objects.count() == 7 and Embedding.objects.filter(vector__isnull=True).count() == 0
    before = services.vectors_for([m.pk for m in messages])
    vectors.forget_indexes()  # a new process reads the file
    assert len(vectors.get_index()) == 4
    assert services.messages_pending_count() == 0
    assert services.messages_process_pending() == 0  # nothing to embed again: the database kept the vectors
    assert Embedding.objects.count() == 7 and len(vectors.get_index()) == 7
    after = services.vectors_for([m.pk for m in messages])
    assert set(after) == {m.pk for m in messages}
    assert all(np.allclose(before[k], after[k]) for k in after)
    assert ThemeMessage.objects.count() == 7  # their theme placements were kept, none duplicated
    assert services.embeddings_reconcile() == 0
    vectors.forget_indexes()
    assert len(vectors.get_index()) == 7  # the repaired index was saved


def test_the_index_drops_keys_the_database_no_longer_holds_and_legacy_rows_are_embedded_again(
    channels: list[Any],
) -> None:
    from townsquare.feedback import vectors

    messages = [MessageFactory(body=text, channel=channels[i % 3]) for i, text in enumerate(EXPORT)]
    services.messages_process(message_ids=[m.pk for m in messages])
    gone = Embedding.objects.get(message=messages[0])
    Embedding.objects.filter(pk=gone.pk).delete()  # e.g. the member was erased
    Embedding.objects.filter(message=messages[1]).update(vector=None)  # a row from before vectors were stored
    held = vectors.get_index().keys()
    assert gone.pk in held
    assert services.embeddings_reconcile() == 0
    held = vectors.get_index().keys()
    assert gone.pk not in held
    assert not Embedding.objects.filter(message=messages[1]).exists()
    assert services.messages_pending() == [messages[1].pk]  # its machine label went with it
    assert services.messages_process_pending() == 1
    assert Embedding.objects.get(message=messages[1]).vector
    assert set(services.vectors_for([m.pk for m in messages])) == {m.pk for m in messages[1:]}
    assert len(vectors.get_index()) == 3


def test_an_upgrade_moves_the_vectors_of_the_old_index_file_into_the_database(
    channels: list[Any], settings: Any
) -> None:
    from townsquare.feedback import vectors
    from townsquare.feedback.pipeline.native import usearch_index_class

    messages = [MessageFactory(body=text, channel=channels[i % 3]) for i, text in enumerate(EXPORT)]
    services.messages_process(message_ids=[m.pk for m in messages])
    before = services.vectors_for([m.pk for m in messages])
    rows = list(Embedding.objects.order_by("pk").values_list("pk", "message_id"))
    # As an older version left things: the vectors only in a float32 index file, none in the rows,
    # except one message whose vector that file lost.
    old = usearch_index_class()(ndim=384, metric="cos", dtype="f32")
    old.add(np.array([pk for pk, _ in rows[1:]], dtype=np.uint64), np.stack([before[m] for _, m in rows[1:]]))
    old.save(settings.FEEDBACK_VECTOR_PATH)
    Embedding.objects.update(vector=None)
    vectors.forget_indexes()
    labels = dict(Classification.objects.values_list("message_id", "kind"))

    assert services.embeddings_reconcile() == 3
    assert Embedding.objects.filter(vector__isnull=False).count() == 3
    after = services.vectors_for([m.pk for m in messages])
    assert set(after) == {m for _, m in rows[1:]}
    assert all(float(after[m] @ before[m]) > 0.999 for m in after)
    assert dict(Classification.objects.values_list("message_id", "kind")) == {m: labels[m] for _, m in rows[1:]}
    assert services.messages_pending() == [rows[0][1]]  # the one the old file lost is embedded again
    assert services.messages_process_pending() == 1
    assert sorted(vectors.get_index().keys()) == sorted(Embedding.objects.values_list("pk", flat=True))


def test_an_index_file_of_an_older_layout_is_rebuilt_from_the_stored_vectors(
    channels: list[Any], settings: Any
) -> None:
    from pathlib import Path

    from townsquare.feedback import vectors
    from townsquare.feedback.pipeline.native import usearch_index_class

    messages = [MessageFactory(body=text, channel=channels[i % 3]) for i, text in enumerate(EXPORT)]
    services.messages_process(message_ids=[m.pk for m in messages])
    old = usearch_index_class()(ndim=384, metric="cos", dtype="f32")  # the layout before vectors were stored
    old.add(np.arange(1, 3, dtype=np.uint64), np.eye(2, 384, dtype=np.float32))
    old.save(settings.FEEDBACK_VECTOR_PATH)
    vectors.forget_indexes()
    web = vectors.FileVectorIndex(Path(settings.FEEDBACK_VECTOR_PATH))  # a process that only reads
    assert len(web) == 0 and web.legacy is not None
    assert services.messages_process_pending() == 0
    assert sorted(vectors.get_index().keys()) == sorted(Embedding.objects.values_list("pk", flat=True))
    assert web.reload_if_changed() and len(web) == 4 and web.legacy is None  # it catches up with the rebuilt file


def test_one_sweep_at_a_time_and_a_writer_catches_up_with_the_saved_file(channels: list[Any], settings: Any) -> None:
    from pathlib import Path

    from townsquare.feedback import vectors

    for i, text in enumerate(EXPORT):
        MessageFactory(body=text, channel=channels[i % 3])
    with vectors.writer() as first:  # another worker's sweep holds the index
        assert first is True
        assert services.messages_process_pending() == 0
        assert services.messages_pending_count() == 4
    other = vectors.FileVectorIndex(Path(settings.FEEDBACK_VECTOR_PATH))  # another process, which read the file early
    assert services.messages_process_pending() == 4
    assert len(other) == 0 and other.reload_if_changed() and len(other) == 4
    assert not other.reload_if_changed()  # unchanged since


def test_labels_for_new_messages_are_inserted_in_bulk_not_updated_row_by_row(channels: list[Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    messages = [MessageFactory(body=f"{EXPORT[i % 4]} (report {i})", channel=channels[i % 3]) for i in range(30)]
    services.messages_embed(message_ids=[m.pk for m in messages])
    services.classifier_current()  # trained (or restored) outside the count
    with CaptureQueriesContext(connection) as queries:
        result = services.messages_classify(message_ids=[m.pk for m in messages])
    statements = [
        q["sql"].split(" times: ")[-1].split()[0] for q in queries.captured_queries
    ]  # executemany: "N times: SQL"
    writes = [word for word in statements if word in ("INSERT", "UPDATE")]
    assert result.done == 30 and Classification.objects.count() == 30
    assert writes == ["INSERT"]  # one statement for all thirty; nothing rewritten after it


def test_the_model_failing_on_one_text_costs_only_that_message(channels: list[Any]) -> None:
    good = MessageFactory(body="Export to CSV keeps failing with a timeout after 30s", channel=channels[0])
    bad = MessageFactory(body="The export dialog crashes when the file name has an emoji", channel=channels[1])
    staged = embedding._embed_select([good.pk, bad.pk])
    assert staged.todo == [(good.pk, good.version), (bad.pk, bad.version)]
    # A lone surrogate, which no database stores but the model's tokenizer refuses: a real failure of the model.
    staged.texts[1] = "\ud800 crashes"
    encoded = embedding._encode(staged.texts, staged.limits)
    result = embedding._embed_store(staged, encoded, flush=True)
    assert (result.done, result.failed) == (1, 1)
    failure = ProcessingFailure.objects.get()
    assert failure.message == bad and failure.stage == "embed" and "TypeError" in failure.reason
    assert list(Embedding.objects.values_list("message_id", flat=True)) == [good.pk]


def test_a_message_meant_for_a_theme_merged_meanwhile_goes_where_it_was_merged(
    channels: list[Any], make_user: Any
) -> None:
    first = [MessageFactory(body=text, channel=channels[0]) for text in EXPORT[:2]]
    services.messages_process(message_ids=[m.pk for m in first])
    old = Theme.objects.get()
    centres = services.ThemeCentres()  # what a sweep read before the curator acted
    target = Theme.objects.create(title="Exports, all of them")
    services.themes_merge(target=target, sources=[old], by=make_user("devrel_lead"))
    late = MessageFactory(body=EXPORT[2], channel=channels[1])
    services.messages_embed(message_ids=[late.pk])
    services.messages_classify(message_ids=[late.pk])
    result = services.messages_assign(message_ids=[late.pk], centres=centres)
    assert ThemeMessage.objects.get(message=late).theme == target
    assert result.touched_themes == {target.pk}
    assert not centres.matrix[centres.ids.index(old.pk)].any()  # nothing joins the merged theme any more


def test_replies_are_embedded_at_the_shorter_cut_and_thread_openers_at_the_full_one(channels: list[Any]) -> None:
    from townsquare.feedback.tests.test_pipeline import LONG_REPLY

    opener = MessageFactory(body=LONG_REPLY, channel=channels[0], external_id="t1", thread_external_id="t1")
    reply = MessageFactory(body=LONG_REPLY, channel=channels[0], thread_external_id="t1", parent_external_id="t1")
    staged = embedding._embed_select([opener.pk, reply.pk])
    assert staged.limits == [embed.MAX_TOKENS, embed.REPLY_TOKENS]
    embedding._embed_store(staged, embedding._encode(staged.texts, staged.limits), flush=True)
    vectors = services.vectors_for([opener.pk, reply.pk])
    assert float(vectors[reply.pk] @ embed.embed([LONG_REPLY], limits=[embed.REPLY_TOKENS])[0]) > 0.98
    assert float(vectors[opener.pk] @ embed.embed([LONG_REPLY])[0]) > 0.98
    assert float(vectors[opener.pk] @ vectors[reply.pk]) < 0.95  # the reply lost its last words
