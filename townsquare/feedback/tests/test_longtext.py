"""Long texts are read whole: windows of 256 word pieces, stored once for feedback, compared whole."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from townsquare.feedback import services
from townsquare.feedback.models import Classification, Embedding
from townsquare.feedback.pipeline import embed, eval_plugins, rank
from townsquare.feedback.tests.factories import MessageFactory

# A bug-report template longer than the 64 word pieces a stored vector reads: three reports that only
# differ after it look the same to their stored vectors.
TEMPLATE = (
    "Bug report. Describe the issue: the desktop wallet app crashes or does not behave as expected on my "
    "computer after the latest upgrade. Is there an existing issue for this? I have searched the existing "
    "issues. Current behaviour and expected behaviour are described below. Operating system: Ubuntu 22.04 "
    "with the default desktop. Version: 27.0 installed from the official release binaries. Steps to "
    "reproduce follow. "
)
DARK = (
    "When I switch to the dark theme, the transaction list shows black text on a black background and cannot be read."
)
DARK_AGAIN = (
    "With the dark theme on, the transactions table has black text on a dark background, so no entry is readable."
)
EXPORT = "Exporting the address book to a CSV file writes an empty file with only the header row and no addresses."


def _pieces(text: str) -> int:
    return len(embed._pieces_tokenizer().encode(text).ids)


def test_a_long_text_is_read_in_windows_of_256_word_pieces_and_a_short_one_needs_none() -> None:
    long_text = TEMPLATE * 8
    assert _pieces(long_text) > embed.LONG_TOKENS * embed.LONG_WINDOWS
    short, long = embed.long_windows(["Dark mode please", long_text])
    assert short == []
    assert len(long) == embed.LONG_WINDOWS and all(len(w) == embed.LONG_TOKENS for w in long)
    # the first window is what truncating the text at 256 word pieces gives
    tokenizer = embed._pieces_tokenizer()
    assert long[0] == tokenizer.encode(long_text).ids[: embed.LONG_TOKENS - 1] + [tokenizer.encode(long_text).ids[-1]]
    medium = TEMPLATE + DARK
    assert embed.MAX_TOKENS < _pieces(medium) <= embed.LONG_TOKENS
    (one,) = embed.long_windows([medium])
    assert len(one) == 1 and len(one[0]) == _pieces(medium)


def test_whole_vectors_tell_apart_long_reports_whose_openings_are_the_same() -> None:
    texts = [TEMPLATE + DARK, TEMPLATE + DARK_AGAIN, TEMPLATE + EXPORT]
    heads = embed.embed(texts)
    assert float(heads[0] @ heads[1]) > 0.999 and float(heads[0] @ heads[2]) > 0.999  # the template only
    wholes = rank.whole_vectors(texts)
    assert float(wholes[0] @ wholes[1]) > float(wholes[0] @ wholes[2]) + 0.05
    scores = eval_plugins.rank(texts[0], texts[1:])  # the plug-in the reference scripts call
    assert scores[0] > scores[1]
    # a short text's whole vector is its stored vector
    assert np.allclose(rank.whole_vectors(["Dark mode please"]), embed.embed(["Dark mode please"]))


def test_the_shortlist_is_the_union_of_both_searches() -> None:
    heads = np.eye(4, dtype=np.float32)
    found = rank.shortlist(heads[0], heads[3], heads, 1)
    assert found.tolist() == [0, 3]


@pytest.mark.django_db
def test_long_feedback_is_read_whole_once_and_more_like_this_compares_whole_texts(channels: list[Any]) -> None:
    reports = [MessageFactory(body=TEMPLATE + tail, channel=channels[0]) for tail in (DARK, DARK_AGAIN, EXPORT)]
    short = MessageFactory(body="Please add a dark mode to the dashboard", channel=channels[1])
    chatter = MessageFactory(body=TEMPLATE.replace("Bug report.", "Lunch menu.") + EXPORT, channel=channels[2])
    services.messages_process(message_ids=[m.pk for m in [*reports, short, chatter]])
    Classification.objects.filter(message=chatter).update(kind=Classification.Kind.NOT_FEEDBACK)
    Embedding.objects.filter(message=chatter).update(whole_vector=None)
    feedback = Classification.objects.exclude(kind=Classification.Kind.NOT_FEEDBACK)
    assert set(feedback.values_list("message_id", flat=True)) >= {m.pk for m in [*reports, short]}

    stored = {e.message_id: e.whole_vector for e in Embedding.objects.all()}
    assert all(stored[m.pk] for m in reports)  # long feedback: a whole vector
    assert stored[short.pk] == b""  # its stored vector read all of it
    assert stored[chatter.pk] is None  # not feedback: never read whole
    again = services.wholes_embed(message_ids=[m.pk for m in [*reports, short, chatter]])
    assert (again.messages, again.windows) == (0, 0)  # once per message version

    wholes = services.whole_vectors_for([m.pk for m in reports])
    assert float(wholes[reports[0].pk] @ wholes[reports[1].pk]) > float(wholes[reports[0].pk] @ wholes[reports[2].pk])
    found = services.more_like_this(message=reports[0], limit=4)
    assert found[0][0].pk == reports[1].pk
    order = [m.pk for m, _ in found]
    assert order.index(reports[1].pk) < order.index(reports[2].pk)
    # a message that is not feedback is read whole for the search, and nothing is stored
    assert services.more_like_this(message=chatter, limit=1)
    assert Embedding.objects.get(message=chatter).whole_vector is None


@pytest.mark.django_db
def test_a_new_version_of_a_message_is_read_whole_again(channels: list[Any]) -> None:
    (report,) = [MessageFactory(body=TEMPLATE + DARK, channel=channels[0])]
    services.messages_process(message_ids=[report.pk])
    first = bytes(Embedding.objects.get(message=report).whole_vector)
    report.body = TEMPLATE + EXPORT
    report.version += 1
    report.save()
    services.messages_process(message_ids=[report.pk])
    row = Embedding.objects.get(message=report)
    assert row.message_version == report.version and bytes(row.whole_vector) != first
