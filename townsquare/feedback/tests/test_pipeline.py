from __future__ import annotations

import json
import random

import numpy as np
import pytest

from townsquare.feedback.pipeline import classify, cluster, embed, eval_plugins, phrases, prefilter
from townsquare.sources import text


def test_it_strips_code_quotes_and_signatures_from_the_text_it_embeds() -> None:
    body = (
        "The exporter stops after page one.\n```\nTraceback (most recent call last):\n  boom\n```\n"
        "> quoted reply from someone else\n    indented_code = 1\nSee https://example.com/a/very/long/path?x=1\n-- \nAlice, ACME"
    )
    prepared = text.prepare("Export broken", body)
    assert prepared == "Export broken. The exporter stops after page one. See example.com"


def test_it_caps_enormous_messages_and_survives_binary_input() -> None:
    assert len(text.prepare("t", "word " * 100_000)) <= text.MAX_CHARS
    binary = bytes(range(256)).decode("latin-1") * 50
    assert text.looks_usable(binary) is False
    assert text.looks_usable(text.prepare("", binary)) is False
    assert text.looks_usable("") is False
    assert text.looks_usable("Как экспортировать данные в CSV?") is True


LONG_REPLY = (
    "I tried the workaround from the docs but the exporter still stops after the first page of results, and then "
    "the second request fails with a timeout while the dashboard shows the job as finished, which it is not. "
    "We run the nightly sync from a small container in Frankfurt and the same job from my laptop behaves the same."
)


def test_a_shorter_cut_embeds_what_truncating_the_text_there_gives() -> None:
    # int8 vectors move by about 0.01 cosine with the batch they are computed in; the cut moves them far more.
    full, cut, short = embed.embed([LONG_REPLY, LONG_REPLY, "export fails"], limits=[64, 24, 24])
    assert float(full @ embed.embed([LONG_REPLY])[0]) > 0.98  # 64 is the default cut
    assert float(full @ cut) < 0.9  # the cut left words out ...
    reference = embed.embed([LONG_REPLY], runtime="torch", limits=[24])[0]
    assert float(cut @ reference) > 0.98  # ... as the reference model truncating at 24 does
    assert float(cut @ embed.embed([LONG_REPLY], runtime="torch")[0]) < 0.9
    assert float(short @ embed.embed(["export fails"])[0]) > 0.98  # short texts are not touched


def test_it_embeds_unit_vectors_and_zero_for_empty_text() -> None:
    vectors = embed.embed(["How do I rotate an API key?", "", "Rotating API keys without downtime"])
    assert vectors.shape == (3, embed.DIMENSIONS)
    assert abs(float(np.linalg.norm(vectors[0])) - 1.0) < 1e-4
    assert not vectors[1].any()
    assert float(vectors[0] @ vectors[2]) > 0.5


REAL_SENTENCES = [
    "The Python SDK drops every item after the first page when I pass page_size=500",
    "Would love a dark mode for the dashboard, my eyes hurt at night",
    "how do i verify the webhook signature? the docs only show node",
    "thanks everyone, see you at the meetup on thursday!",
    "Установка через pip падает с ошибкой SSL",
    "bulk upload keeps hitting 429 Too Many Requests even with one worker",
]


def test_the_int8_runtime_stays_within_the_agreed_distance_of_the_reference() -> None:
    reference = embed.embed(REAL_SENTENCES, runtime="torch")
    exact = embed.embed(REAL_SENTENCES, runtime="onnx")
    quantised = embed.embed(REAL_SENTENCES, runtime="onnx-int8")
    assert np.allclose(exact, reference, atol=1e-4)  # the ONNX export is the same network
    cosines = (quantised * reference).sum(1)
    assert cosines.mean() >= embed.MIN_COSINE and cosines.min() > 0.97
    # the build recorded its check against the reference, and the default runtime is the quantised one
    report = json.loads(next(embed.cache_dir().glob("*-int8.json")).read_text())
    assert report["mean_cosine"] >= embed.MIN_COSINE and report["probe_texts"] == embed.PROBE_SIZE
    assert embed.active_runtime() == "onnx-int8"


def test_the_prefilter_passes_feedback_candidates_and_drops_chatter() -> None:
    keep = {
        "Export to CSV drops rows with commas": ("chat", False, "cue"),  # a problem word
        "is there a way to set the region per project": ("chat", False, "cue"),
        "any chance of a dark mode": ("reply", False, "cue"),
        "Not just you, I see it with the events endpoint": ("reply", False, "cue"),  # another person affected
        "Thank you for 2.0, honestly the release of the year": ("chat", False, "cue"),
        "Upgrade guide for v4": ("issue", True, "thread start"),
        # a line addressed to someone still passes on a problem, an opinion, "me too" or a question
        "TJ-: the installer crashes right after the language screen": ("chat", True, "cue"),
        "@maria same here since the upgrade": ("reply", False, "cue"),
        "TJ-: how do I install the nvidia driver from the docs": ("chat", True, "cue"),
        "akik: did you install it from the PPA?": ("chat", True, "cue"),
        # unaddressed, the words of a help topic are still cues ("Yes," names nobody)
        "Yes, the docs explain how to install it": ("chat", True, "cue"),
    }
    for sentence, (kind, starts, reason) in keep.items():
        assert prefilter.screen(sentence, kind=kind, starts_thread=starts) == prefilter.Verdict(True, reason), sentence
    long_notes = "Minutes: " + " ".join(f"item {n} was discussed and noted" for n in range(10))
    for sentence, reason in {
        "thanks!": "short",
        "+1": "short",
        "lol that is hilarious mate": "no cue",
        "see you all at the meetup": "no cue",
        "Upgrade guide": "short",
        # a helper's answer: only the words of the topic, addressed to the asker
        "TJ-: sudo apt install nvidia-driver-535 then reboot, the docs say the same": "no cue",
        "@maria try the setup guide, what you need is in step 3": "no cue",
        # length alone no longer passes a message
        long_notes: "no cue",
    }.items():
        assert prefilter.screen(sentence, kind="chat") == prefilter.Verdict(False, reason), sentence
    # a reply never counts as a thread start, whatever its kind
    assert prefilter.screen("Notes from the call today", kind="reply", starts_thread=True).keep is False


def test_it_finds_the_number_of_groups_itself() -> None:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(4, 32))
    points = np.concatenate([c + 0.05 * rng.normal(size=(25, 32)) for c in centres]).astype(np.float32)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    labels = cluster.cluster_vectors(points)
    assert len(set(labels.tolist())) == 4
    for g in range(4):
        assert len(set(labels[g * 25 : (g + 1) * 25].tolist())) == 1


def test_it_numbers_groups_largest_first_and_repeats_itself_exactly() -> None:
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(3, 32))
    sizes = (10, 40, 25)
    points = np.concatenate([c + 0.05 * rng.normal(size=(size, 32)) for c, size in zip(centres, sizes)]).astype(
        np.float32
    )
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    random.seed(7)
    expected_draw = random.random()
    random.seed(7)
    labels = cluster.cluster_vectors(points)
    assert random.random() == expected_draw  # seeded on its own generator: Python's global one is left alone
    assert labels[:10].tolist() == [2] * 10 and labels[10:50].tolist() == [0] * 40 and labels[50:].tolist() == [1] * 25
    assert cluster.cluster_vectors(points).tolist() == labels.tolist()
    assert cluster.cluster_vectors(points, resolution=1.0).tolist() == labels.tolist()


def test_the_plugins_group_and_rank_real_texts() -> None:
    texts = [
        "How do I reset my password?",
        "I forgot my password, how can I reset it?",
        "Password reset link does not arrive",
        "Please add dark mode",
        "Dark mode for the dashboard would be great",
        "Any plans for a dark theme?",
    ]
    ids = eval_plugins.cluster(texts)
    assert len(ids) == 6 and ids[0] == ids[1] and ids[3] == ids[4] and ids[0] != ids[3]
    scores = eval_plugins.rank("reset my password", ["dark mode please", "how to reset a forgotten password"])
    assert scores[1] > scores[0]
    assert eval_plugins.rank("anything", []) == []


def test_it_titles_groups_by_class_based_tfidf() -> None:
    groups = [
        ["dark mode for the dashboard", "please add dark mode", "dark mode theme"],
        ["export to csv drops rows", "csv export is broken", "csv export missing rows"],
    ]
    result = phrases.key_phrases(groups)
    assert "dark mode" in result[0][0]
    assert "csv" in result[1][0]
    assert phrases.title_from_phrases(result[1]).lower().startswith("csv")


@pytest.mark.parametrize(
    ("texts", "junk"),
    [
        (["Friday deploy, it works. Good luck! Wish me luck"], {"works luck", "wish luck", "deploy wish"}),
        (["Friday deploy, wish me luck :sweat_smile:"], {"sweat_smile", "luck sweat_smile"}),
        (["Which SDK version? ah ok, upgrading now", "what version ah"], {"version ah", "ah"}),
        (["The number the dashboard said. Finance asked about it", "as I said finance wants it"], {"said finance"}),
        (["see https://github.com/acme/cli/issues/4 for the github.com thread"], {"github.com", "https", "issues"}),
    ],
)
def test_key_phrases_never_cross_sentences_or_end_on_filler(texts: list[str], junk: set[str]) -> None:
    groups = [texts, ["csv export drops rows", "csv export is broken"], ["dark mode please", "dark mode theme"]]
    found = phrases.key_phrases(groups, top=20)[0]
    candidates = set().union(*(phrases.candidates(t) for t in texts))
    assert not junk & (set(found) | candidates)


def test_key_phrases_are_shared_by_several_messages_of_a_big_group() -> None:
    group = [f"The webhook signature check fails for event {n}; the acme-signature header differs" for n in range(6)]
    group.append("Unrelated aside about lunch menus and parking spaces")
    found = phrases.key_phrases([group, ["dark mode please", "dark mode theme"]])[0]
    assert found and not any(w in " ".join(found) for w in ("lunch", "parking"))
    assert any("signature" in p for p in found)


def test_the_seed_set_trains_a_classifier_that_recognises_the_kinds() -> None:
    texts, labels = classify.load_seed()
    assert len(texts) >= 150 and set(labels) == set(classify.LABELS)
    model = classify.train(embed.embed([text.prepare(None, t) for t in texts]), labels, cross_validate=False)
    found = classify.predict(
        model,
        embed.embed(
            [
                "The CLI crashes with a KeyError when the config file is missing",
                "It would be great to have a Rust SDK",
                "",
            ]
        ),
    )
    assert found[0].kind == "bug"
    assert found[1].kind == "feature"
    assert found[2].kind == "not_feedback"


def test_the_product_trains_on_the_seed_set_and_the_real_labelled_messages() -> None:
    seed_texts, seed_labels = classify.load_seed()
    real_texts, real_labels = classify.load_seed(classify.REAL_TRAIN_FILE)
    texts, labels = classify.load_training()
    assert texts == seed_texts + real_texts and labels == seed_labels + real_labels
    assert len(real_texts) >= 300 and set(real_labels) <= set(classify.LABELS)
    # real_train.tsv's rows are label, source, external_id, text: only the text is read
    assert not any("\t" in t for t in real_texts) and "slack_export" not in real_texts[0]
    assert real_labels.count("not_feedback") > len(real_labels) / 2  # real channels are mostly not feedback
