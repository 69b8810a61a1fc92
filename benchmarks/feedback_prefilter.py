"""The feedback pre-filter: how much real feedback it keeps, and how much work it saves the model.

    .venv/bin/python benchmarks/feedback_prefilter.py [--labelled FILE.tsv ...]

1. Recall on hand-labelled messages: for each label, the share the pre-filter passes on to the
   embedding model. Feedback labels should stay near 100 %; ``not_feedback`` passing is the cost.
   Files are ``label<TAB>text`` or ``label<TAB>source<TAB>external_id<TAB>text`` lines, ``#`` comments;
   by default the shipped seed set and the hand-labelled real sample (training/eval_real.tsv) if present.
2. Pass rate on every real archive in ../shared/data, read by our own connectors (what an import stores):
   the share of messages that would be embedded, per archive kind, and why the others were dropped.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRAINING = ROOT / "townsquare" / "feedback" / "training"


def labelled(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        rows.append((parts[0], parts[-1]))
    return rows


def cascade(rows: list[tuple[str, str]]) -> None:
    """Feedback precision/recall of the classifier alone and of the pipeline as it runs (pre-filter first)."""
    from townsquare.feedback.pipeline import classify
    from townsquare.feedback.pipeline.embed import embed
    from townsquare.feedback.pipeline.prefilter import screen
    from townsquare.sources.text import prepare

    texts, labels = classify.load_training()
    model = classify.train(embed([prepare(None, t) for t in texts]), labels, cross_validate=False)
    prepared = [prepare(None, text) for _, text in rows]
    predicted = [p.kind != "not_feedback" for p in classify.predict(model, embed(prepared))]
    passed = [screen(text).keep for text in prepared]
    truth = [label != "not_feedback" for label, _ in rows]
    print(
        f"\n{len(rows)} hand-labelled real messages, feedback found by (trained on the shipped training files, seed + real_train):"
    )
    for name, found in (
        ("classifier alone", predicted),
        ("pre-filter + classifier", [a and b for a, b in zip(passed, predicted)]),
    ):
        hits = sum(f and t for f, t in zip(found, truth))
        print(
            f"  {name:24} precision {100 * hits / max(sum(found), 1):5.1f} %  recall {100 * hits / sum(truth):5.1f} %  "
            f"({sum(found)} flagged, {sum(truth)} real)"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labelled", type=Path, action="append")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    os.environ.setdefault("TOWNSQUARE_DATA_DIR", "/tmp/townsquare-bench-prefilter")
    os.environ.setdefault("TOWNSQUARE_MODEL_CACHE", str(ROOT / ".cache" / "models"))
    import django

    django.setup()
    from benchmarks import real_corpus
    from townsquare.feedback.pipeline.prefilter import screen
    from townsquare.sources.text import looks_usable, prepare

    files = args.labelled or [p for p in (TRAINING / "seed.tsv", TRAINING / "eval_real.tsv") if p.exists()]
    for path in files:
        rows = labelled(path)
        kept: collections.Counter[str] = collections.Counter()
        total: collections.Counter[str] = collections.Counter()
        for label, text in rows:
            total[label] += 1
            # Labelled lines carry no kind: screen them as replies (the strictest case).
            kept[label] += screen(prepare(None, text)).keep
        feedback = sum(total[k] for k in total if k != "not_feedback")
        feedback_kept = sum(kept[k] for k in total if k != "not_feedback")
        print(f"{path.name}: {len(rows)} labelled messages")
        for label in sorted(total):
            print(f"  {label:14} kept {kept[label]:4}/{total[label]:<4} = {100 * kept[label] / total[label]:5.1f} %")
        if feedback:
            print(
                f"  feedback recall {100 * feedback_kept / feedback:.1f} %  "
                f"(not_feedback passed on: {100 * kept['not_feedback'] / max(total['not_feedback'], 1):.1f} %)"
            )

    evaluation = TRAINING / "eval_real.tsv"
    if evaluation.exists():
        cascade(labelled(evaluation))
    if not real_corpus.available():
        print("../shared/data not found: archive pass rates skipped")
        return 0
    started = time.perf_counter()
    per_kind: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for kind, record in real_corpus.records():
        text = prepare(record.title, record.body)
        if not looks_usable(text):
            per_kind[kind]["unusable"] += 1
            continue
        verdict = screen(text, kind=record.kind, starts_thread=real_corpus.starts_thread(record))
        per_kind[kind][("keep: " if verdict.keep else "drop: ") + verdict.reason] += 1
    elapsed = time.perf_counter() - started
    print("\nreal archives in ../shared/data (share passed on to the model):")
    all_total = all_kept = 0
    for kind, counts in sorted(per_kind.items()):
        total = sum(counts.values())
        kept = sum(v for k, v in counts.items() if k.startswith("keep"))
        all_total, all_kept = all_total + total, all_kept + kept
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        print(f"  {kind:18} {kept:6,}/{total:<6,} = {100 * kept / total:5.1f} %   ({reasons})")
    print(
        f"  {'all':18} {all_kept:6,}/{all_total:<6,} = {100 * all_kept / all_total:5.1f} %   "
        f"read and screened in {elapsed:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
