"""The feedback gate with thread features, chosen by leave-one-community-out CV on real_train only.

    PYTHONPATH=. .venv/bin/python benchmarks/feedback_thread_gate.py                  # needs ../shared/data
    PYTHONPATH=. .venv/bin/python benchmarks/feedback_thread_gate.py --write-threads  # regenerate the shipped file

What the product does (``classify.train`` / ``classify.predict``): a logistic regression over the MiniLM
embedding, the hashed words of the text (``classify.word_features``) and two thread features (the message is a
reply; a reply by someone other than the opener),
trained on seed.tsv (written examples, features zero) and real_train.tsv (features from
``training/real_train_threads.tsv``, which ``--write-threads`` derives from ../shared/data); a message is
feedback when P(any feedback label) >= ``classify.FEEDBACK_THRESHOLD``. Before the gate, a reply that says
"me too" (``classify.says_me_too``) to an opener the same model finds feedback is feedback.

Choosing: each community of real_train (an archive, or a chat/IRC channel of one) is held out in turn;
the model is trained on seed.tsv and the other communities, and scores the held-out one. The pooled
out-of-fold scores, after the pre-filter (``prefilter.screen`` with each message's kind and thread start),
choose the threshold of best F1. Printed: that CV table (macro over folds too), then the figures of the
model trained on all training rows on real_holdout.tsv (communities never trained on) and eval_real.tsv,
for three classifiers: the shipped one before this change (embedding only, argmax), thread features + gate,
and thread features + gate + the me-too rule. Nothing here reads real_holdout or eval_real to choose.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
GRID = [round(x, 3) for x in np.arange(0.20, 0.96, 0.025)]


def prepared_sets() -> dict[str, Any]:
    """Texts, embeddings, thread features, openers and pre-filter verdicts of the three labelled real sets."""
    from benchmarks import real_corpus
    from townsquare.feedback.pipeline import classify, embed, prefilter
    from townsquare.feedback.pipeline.embed import MAX_TOKENS, REPLY_TOKENS
    from townsquare.sources.text import prepare

    sets = real_corpus.labelled_threads("real_train.tsv", "real_holdout.tsv", "eval_real.tsv")
    seed_texts, seed_labels = classify.load_seed()
    data: dict[str, Any] = {
        "seed": {
            "vec": embed.embed([prepare(None, t) for t in seed_texts]),
            "labels": seed_labels,
            "texts": [prepare(None, t) for t in seed_texts],
        }
    }
    for name, rows in sets.items():
        # As the pipeline embeds them: replies cut at REPLY_TOKENS, openers at MAX_TOKENS.
        limits = [REPLY_TOKENS if r["reply"] else MAX_TOKENS for r in rows]
        data[name] = {
            "rows": rows,
            "labels": [r["label"] for r in rows],
            "texts": [r["text"] for r in rows],
            "vec": embed.embed([r["text"] for r in rows], limits=limits),
            "opener": embed.embed([r["opener"] for r in rows]),
            "thread": np.array([[r["reply"], r["by_other"]] for r in rows], dtype=np.float32),
            "keep": np.array(
                [prefilter.screen(r["text"], kind=r["kind"], starts_thread=r["starts"]).keep for r in rows]
            ),
            "me_too": np.array([r["by_other"] and bool(r["opener"]) and classify.says_me_too(r["text"]) for r in rows]),
            "community": [r["community"] for r in rows],
        }
    return data


def _fit(data: dict[str, Any], index: np.ndarray | None, threads: bool) -> Any:
    from townsquare.feedback.pipeline import classify

    train = data["real_train.tsv"]
    index = np.arange(len(train["labels"])) if index is None else index
    vectors = np.vstack([data["seed"]["vec"], train["vec"][index]])
    thread = np.vstack([np.zeros((len(data["seed"]["labels"]), 2), dtype=np.float32), train["thread"][index]])
    labels = list(data["seed"]["labels"]) + [train["labels"][i] for i in index]
    texts = list(data["seed"]["texts"]) + [train["texts"][i] for i in index]
    return classify.train(
        vectors, labels, thread=thread if threads else None, texts=texts if threads else None, cross_validate=False
    )


def _scores(model: Any, part: dict[str, Any], rows: np.ndarray, threads: bool) -> dict[str, np.ndarray]:
    """P(feedback) of the rows and of their openers (the opener read as an opener), and the argmax verdict."""
    classes = model.classes
    nf = classes.index("not_feedback")
    thread = part["thread"][rows] if threads else None
    probs = model.probabilities(part["vec"][rows], thread, [part["texts"][i] for i in rows])
    opener = model.probabilities(
        part["opener"][rows],
        np.zeros((len(rows), 2), dtype=np.float32) if threads else None,
        [part["rows"][i]["opener"] for i in rows],
    )
    return {
        "p": 1.0 - probs[:, nf],
        "opener_p": np.where(part["opener"][rows].any(1), 1.0 - opener[:, nf], 0.0),
        "argmax": probs.argmax(1) != nf,
    }


def _verdict(part: dict[str, Any], rows: np.ndarray, s: dict[str, np.ndarray], t: float, me_too: bool) -> np.ndarray:
    found = s["p"] >= t
    if me_too:
        found = found | (part["me_too"][rows] & (s["opener_p"] >= t))
    return found & part["keep"][rows]


def _prf(truth: np.ndarray, found: np.ndarray) -> tuple[float, float, float]:
    tp = float((truth & found).sum())
    p = tp / found.sum() if found.sum() else 0.0
    r = tp / truth.sum() if truth.sum() else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def cross_validate(data: dict[str, Any], *, me_too: bool) -> float:
    train = data["real_train.tsv"]
    truth = np.array([label != "not_feedback" for label in train["labels"]])
    communities = sorted(set(train["community"]))
    oof: dict[str, np.ndarray] = {k: np.zeros(len(truth)) for k in ("p", "opener_p")}
    folds = []
    for held in communities:
        out = np.array([c == held for c in train["community"]])
        model = _fit(data, np.flatnonzero(~out), threads=True)
        s = _scores(model, train, np.flatnonzero(out), threads=True)
        for key, values in oof.items():
            values[out] = s[key]
        folds.append(out)
    every = np.arange(len(truth))
    print(
        f"\nleave-one-community-out on real_train ({len(communities)} communities), after the pre-filter, me-too {me_too}"
    )
    print(f"  {'threshold':>9} {'pooled P':>8} {'R':>6} {'F1':>6} {'fold-mean F1':>12}")
    best = (-1.0, 0.5)
    for t in GRID:
        found = _verdict(train, every, oof, t, me_too)
        p, r, f1 = _prf(truth, found)
        mean = np.mean([_prf(truth[f], found[f])[2] for f in folds if truth[f].any()])
        print(f"  {t:>9.3f} {p:>8.3f} {r:>6.3f} {f1:>6.3f} {mean:>12.3f}")
        if f1 > best[0]:
            best = (f1, t)
    print(
        f"  chosen threshold {best[1]:.3f} (pooled out-of-fold F1 {best[0]:.3f}); communities: {', '.join(communities)}"
    )
    return best[1]


def held_out(data: dict[str, Any], threshold: float) -> None:
    before, after = _fit(data, None, threads=False), _fit(data, None, threads=True)
    print(f"\ntrained on seed + all real_train; figures after the pre-filter (threshold {threshold:.3f})")
    print(f"  {'set':<17} {'classifier':<36} {'P':>6} {'R':>6} {'F1':>6} {'me-too rows':>11}")
    for name in ("real_holdout.tsv", "eval_real.tsv", "real_train.tsv"):
        part = data[name]
        rows = np.arange(len(part["labels"]))
        truth = np.array([label != "not_feedback" for label in part["labels"]])
        old = _scores(before, part, rows, threads=False)
        new = _scores(after, part, rows, threads=True)
        ways = {
            "before: embedding, argmax": old["argmax"] & part["keep"],
            "thread features + gate": _verdict(part, rows, new, threshold, False),
            "thread features + gate + me-too": _verdict(part, rows, new, threshold, True),
        }
        for way, found in ways.items():
            p, r, f1 = _prf(truth, found)
            print(f"  {name:<17} {way:<36} {p:>6.3f} {r:>6.3f} {f1:>6.3f} {int(part['me_too'].sum()):>11}")
    print("  (real_train: trained on, shown only as a sanity line)")


def write_threads() -> None:
    from benchmarks import real_corpus
    from townsquare.feedback.pipeline import classify

    rows = real_corpus.labelled_threads("real_train.tsv")["real_train.tsv"]
    lines = [
        "# Thread features of real_train.tsv's rows, in its order: source<TAB>external_id<TAB>reply<TAB>reply_by_other.",
        "# Written by benchmarks/feedback_thread_gate.py --write-threads from ../shared/data (real_corpus.labelled_threads):",
        "# reply = the message does not open its thread; reply_by_other = a reply whose author is not the opener's.",
    ]
    ids = []
    for line in classify.REAL_TRAIN_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            ids.append(line.split("\t", 3)[1:3])
    for (source, external_id), row in zip(ids, rows):
        lines.append(f"{source}\t{external_id}\t{int(row['reply'])}\t{int(row['by_other'])}")
    classify.REAL_TRAIN_THREADS_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {classify.REAL_TRAIN_THREADS_FILE} ({len(rows)} rows)")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-threads", action="store_true", help="regenerate training/real_train_threads.tsv")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    os.environ.setdefault("TOWNSQUARE_DATA_DIR", "/tmp/townsquare-bench-thread-gate")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import django

    django.setup()
    from benchmarks import real_corpus

    if not real_corpus.available():
        print("../shared/data not found")
        return 1
    if args.write_threads:
        write_threads()
        return 0
    data = prepared_sets()
    threshold = cross_validate(data, me_too=True)
    cross_validate(data, me_too=False)
    held_out(data, threshold)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
