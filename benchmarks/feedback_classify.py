"""Feedback classification: the product's classifier on its seed set and on real, hand-labelled messages.

    .venv/bin/python benchmarks/feedback_classify.py
    .venv/bin/python benchmarks/feedback_classify.py --old-seed 6975d5c   # the seed set to compare with (git ref)
    .venv/bin/python benchmarks/feedback_classify.py --tune               # also a C x class-weight grid, by seed CV
    .venv/bin/python benchmarks/feedback_classify.py --real               # also seed vs seed + real_train (needs ../shared/data)

Trains exactly as ``services.classifier_train`` does without curator corrections: seed texts through
``text.prepare(None, t)``, ``embed.embed``, ``classify.train`` (whose cross-validated accuracy on the
seed set is printed), then ``classify.predict`` on ``training/eval_real.tsv``, 400 real community
messages from the demo archives that are never trained on. A prediction counts as ``docs_question``
when ``predict`` says question with a documentation gap, as the product stores it. Three runs: the old
seed set with the old hyper-parameters, the shipped seed set with the old ones, and the shipped seed
set with ``classify.train``'s current defaults. Each prints: seed CV accuracy (``train``'s own);
eval accuracy, macro-F1, per-class precision/recall/support and the binary "feedback" (any label but
not_feedback) precision/recall. Nothing is asserted.

``--real`` compares the classifier trained on the seed set alone with the one trained on every shipped
training file (``classify.load_training``: seed + ``real_train.tsv``), each on ``real_holdout.tsv`` (real
messages from communities no training file comes from: the honest test; texts read from ../shared/data)
and on ``eval_real.tsv`` (optimistic for real_train: same communities). For each: binary feedback
precision/recall/F1, macro-F1 over the 7 labels, and the cascade as the pipeline runs it (pre-filter
``prefilter.screen`` with each message's real kind and thread start, then the classifier with each
message's thread features, its words and the feedback gate; replies embedded at ``REPLY_TOKENS`` as the pipeline
does). The training rows are read as ``services.classifier_train`` reads them (texts, thread features, words).

``--tune`` scores hyper-parameters by stratified 5-fold cross-validation on the seed set only (the
eval sample plays no part in choosing them) and prints the grid, best first.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
EVAL_FILE = ROOT / "townsquare" / "feedback" / "training" / "eval_real.tsv"
OLD_SEED_REF = "6975d5c"  # the last commit with the original 167-example seed set
OLD_PARAMS = {"c": 16.0, "class_weight": "balanced"}  # classify.train's hyper-parameters before they were re-tuned


def load_eval(path: Path = EVAL_FILE) -> tuple[list[str], list[str], list[str]]:
    """(texts, labels, sources) from ``label<TAB>source<TAB>external_id<TAB>text`` lines."""
    texts, labels, sources = [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, source, _external_id, text = line.split("\t", 3)
        texts.append(text)
        labels.append(label)
        sources.append(source)
    return texts, labels, sources


def seed_at(ref: str, folder: Path) -> Path:
    data = subprocess.run(
        ["git", "show", f"{ref}:townsquare/feedback/training/seed.tsv"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    path = folder / f"seed-{ref}.tsv"
    path.write_bytes(data)
    return path


def predicted_labels(model, vectors, thread=None, texts=None) -> list[str]:  # type: ignore[no-untyped-def]
    from townsquare.feedback.pipeline import classify

    predictions = classify.predict(model, vectors, thread, texts=texts)
    return ["docs_question" if p.kind == "question" and p.docs_gap else p.kind for p in predictions]


def evaluate(
    name: str,
    seed_path: Path,
    eval_vectors,
    eval_labels: list[str],  # type: ignore[no-untyped-def]
    eval_sources: list[str],
    **params: object,
) -> dict:
    from sklearn import metrics

    from townsquare.feedback.pipeline import classify, embed
    from townsquare.sources import text

    texts, labels = classify.load_seed(seed_path)
    model = classify.train(embed.embed([text.prepare(None, t) for t in texts]), labels, **params)
    pred = predicted_labels(model, eval_vectors)
    classes = list(classify.LABELS)
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        eval_labels, pred, labels=classes, zero_division=0
    )
    truth_fb = [label != "not_feedback" for label in eval_labels]
    pred_fb = [label != "not_feedback" for label in pred]
    shipped = {"c": classify.DEFAULT_C, "class_weight": classify.DEFAULT_CLASS_WEIGHT}
    print(f"\n{name}: {len(texts)} seed examples, {params or shipped}")
    print(f"  seed cross-validated accuracy   {model.cv_accuracy:.3f}")
    print(f"  eval accuracy                   {metrics.accuracy_score(eval_labels, pred):.3f}")
    macro_f1 = metrics.f1_score(eval_labels, pred, labels=classes, average="macro", zero_division=0)
    print(f"  eval macro-F1 (7 labels)        {macro_f1:.3f}")
    print(
        f"  feedback vs not_feedback        "
        f"precision {metrics.precision_score(truth_fb, pred_fb, zero_division=0):.3f}"
        f"  recall {metrics.recall_score(truth_fb, pred_fb, zero_division=0):.3f}"
        f"  F1 {metrics.f1_score(truth_fb, pred_fb, zero_division=0):.3f}"
        f"  (predicted feedback {sum(pred_fb)}, true {sum(truth_fb)})"
    )
    print(f"  {'label':<14} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8} {'predicted':>10}")
    for i, label in enumerate(classes):
        print(
            f"  {label:<14} {precision[i]:>9.3f} {recall[i]:>7.3f} {f1[i]:>6.3f} {support[i]:>8}"
            f" {pred.count(label):>10}"
        )
    by_source = {}
    for source in sorted(set(eval_sources)):
        rows = [i for i, s in enumerate(eval_sources) if s == source]
        by_source[source] = sum(pred[i] == eval_labels[i] for i in rows) / len(rows)
    print("  accuracy by archive            ", "  ".join(f"{s} {a:.2f}" for s, a in by_source.items()))
    return {"cv": model.cv_accuracy, "accuracy": metrics.accuracy_score(eval_labels, pred)}


def tune(seed_path: Path) -> None:
    """Grid over C and class weighting, scored by stratified 5-fold CV on the seed set only."""
    import numpy as np
    from sklearn import metrics
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from townsquare.feedback.pipeline import classify, embed
    from townsquare.sources import text

    texts, labels = classify.load_seed(seed_path)
    vectors = embed.embed([text.prepare(None, t) for t in texts])
    y = np.asarray(labels)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    rows = []
    for weight in ("balanced", None):
        for c in (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0):
            model = LogisticRegression(C=c, max_iter=2000, class_weight=weight)
            pred = cross_val_predict(model, vectors, y, cv=folds)
            rows.append((metrics.accuracy_score(y, pred), metrics.f1_score(y, pred, average="macro"), c, weight))
    print(f"\nhyper-parameters by 5-fold CV on {seed_path.name} ({len(texts)} examples), best accuracy first")
    print(f"  {'C':>5} {'class_weight':<12} {'accuracy':>8} {'macro-F1':>8}")
    for accuracy, f1, c, weight in sorted(rows, key=lambda r: (-r[0], -r[1])):
        print(f"  {c:>5g} {weight!s:<12} {accuracy:>8.3f} {f1:>8.3f}")


def real() -> None:
    """Seed-only vs seed + real_train classifiers on the held-out and the eval real messages, alone and after the pre-filter."""
    from sklearn import metrics

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    os.environ.setdefault("TOWNSQUARE_DATA_DIR", "/tmp/townsquare-bench-classify")
    from townsquare.feedback.pipeline import embed

    os.environ.setdefault("TOWNSQUARE_MODEL_CACHE", str(embed.cache_dir()))  # the model the runs above used
    import django

    django.setup()
    from benchmarks import real_corpus
    from townsquare.feedback.pipeline import classify, prefilter
    from townsquare.sources import text

    if not real_corpus.available():
        print("\n../shared/data not found: --real skipped")
        return
    import numpy as np

    from townsquare.feedback.pipeline.embed import MAX_TOKENS, REPLY_TOKENS

    threaded = real_corpus.labelled_threads("real_holdout.tsv", "eval_real.tsv")
    sets = {name: [(r["label"], r["kind"], r["starts"], r["text"]) for r in rows] for name, rows in threaded.items()}
    # As the pipeline embeds and classifies them: replies cut at REPLY_TOKENS, with their thread features.
    vectors = {
        name: embed.embed([r["text"] for r in rows], limits=[REPLY_TOKENS if r["reply"] else MAX_TOKENS for r in rows])
        for name, rows in threaded.items()
    }
    places = {
        name: np.array([[r["reply"], r["by_other"]] for r in rows], dtype=np.float32) for name, rows in threaded.items()
    }
    screened = {
        name: [prefilter.screen(row[3], kind=row[1], starts_thread=row[2]).keep for row in rows]
        for name, rows in sets.items()
    }
    trainings = {"seed only": classify.load_seed(), "seed + real_train": classify.load_training()}
    seed_rows = len(trainings["seed only"][0])
    thread_rows = {"seed only": np.zeros((seed_rows, 2)), "seed + real_train": classify.load_training_threads()}
    classes = list(classify.LABELS)
    print(
        f"\n{'trained on':<18} {'evaluated on':<17} {'n':>4}  {'fb precision':>12} {'recall':>6} {'F1':>6}  "
        f"{'macro-F1':>8}  | after pre-filter: {'precision':>9} {'recall':>6} {'F1':>6}"
    )
    for train_name, (texts, labels) in trainings.items():
        prepared = [text.prepare(None, t) for t in texts]
        model = classify.train(
            embed.embed(prepared),
            labels,
            thread=thread_rows[train_name],
            texts=prepared,
            cross_validate=False,
        )
        for name, rows in sets.items():
            truth = [row[0] for row in rows]
            pred = predicted_labels(model, vectors[name], places[name], [row[3] for row in rows])
            truth_fb = [label != "not_feedback" for label in truth]
            pred_fb = [label != "not_feedback" for label in pred]
            cascade = [p and k for p, k in zip(pred_fb, screened[name])]
            scores = [
                metrics.precision_recall_fscore_support(truth_fb, found, average="binary", zero_division=0)[:3]
                for found in (pred_fb, cascade)
            ]
            macro = metrics.f1_score(truth, pred, labels=classes, average="macro", zero_division=0)
            print(
                f"{train_name:<18} {name:<17} {len(rows):>4}  {scores[0][0]:>12.3f} {scores[0][1]:>6.3f} "
                f"{scores[0][2]:>6.3f}  {macro:>8.3f}  |                   {scores[1][0]:>9.3f} {scores[1][1]:>6.3f} "
                f"{scores[1][2]:>6.3f}"
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-seed", default=OLD_SEED_REF, help="git ref of the seed set to compare with")
    parser.add_argument("--tune", action="store_true", help="print a C x class-weight grid scored by seed CV")
    parser.add_argument(
        "--real", action="store_true", help="seed only vs seed + real_train on real_holdout and eval_real"
    )
    args = parser.parse_args(argv)

    from townsquare.feedback.pipeline import classify, embed

    eval_texts, eval_labels, eval_sources = load_eval()
    counts = {label: eval_labels.count(label) for label in classify.LABELS}
    print(f"eval sample: {len(eval_texts)} real messages ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    eval_vectors = embed.embed(eval_texts)  # the texts are already prepare()d, as the pipeline embeds them
    with tempfile.TemporaryDirectory() as tmp:
        old = seed_at(args.old_seed, Path(tmp))
        evaluate(
            f"old seed set ({args.old_seed}), old hyper-parameters",
            old,
            eval_vectors,
            eval_labels,
            eval_sources,
            **OLD_PARAMS,
        )
        evaluate(
            "seed set as shipped, old hyper-parameters",
            classify.SEED_FILE,
            eval_vectors,
            eval_labels,
            eval_sources,
            **OLD_PARAMS,
        )
        evaluate("seed set as shipped", classify.SEED_FILE, eval_vectors, eval_labels, eval_sources)
        if args.tune:
            tune(old)
            tune(classify.SEED_FILE)
    if args.real:
        real()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
