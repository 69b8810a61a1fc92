"""Feedback quality: the product's pipeline on labelled public data, with the reference baselines.

    .venv/bin/python benchmarks/feedback_quality.py
    .venv/bin/python benchmarks/feedback_quality.py --intents FILE.tsv --duplicates DIR --split NAME
    .venv/bin/python benchmarks/feedback_quality.py --baselines      # also MiniLM + k-means (true k), BM25, MiniLM

Grouping: ``label<TAB>text`` lines are clustered by ``cluster`` (the number of groups is discovered)
and scored by V-measure and ARI against the labels. Duplicates: a folder in the layout of
``semeval2016-3B-dev`` (``<split>.txt`` and ``text_tokenized.txt.gz``) is ranked by ``rank`` and
scored by MAP, MRR and P@1 (queries with a positive, Lei et al. 2016) and the SemEval scorer's view
(every query). Also prints embedding throughput on this machine (short texts and 256-token texts).
The baselines are the reference scripts' own code, imported from ``--eval-dir``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
DEFAULT_EVAL = ROOT.parent / "shared" / "eval"


def load_intents(path: Path) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            label, _, text = line.rstrip("\n").partition("\t")
            if label:
                texts.append(text)
                labels.append(label)
    return texts, labels


def grouping(path: Path, baselines: bool, ref) -> dict:  # type: ignore[no-untyped-def]
    from sklearn import metrics

    from townsquare.feedback.pipeline.eval_plugins import cluster

    texts, labels = load_intents(path)
    start = time.perf_counter()
    pred = cluster(texts)
    seconds = time.perf_counter() - start
    out = {"texts": len(texts), "true_groups": len(set(labels))}

    def figures(p: list[int], secs: float) -> dict:
        return {
            "v_measure": round(100 * metrics.v_measure_score(labels, p), 2),
            "ARI": round(100 * metrics.adjusted_rand_score(labels, p), 2),
            "groups_found": len(set(p)),
            "seconds": round(secs, 1),
        }

    out["ours"] = figures(pred, seconds)
    k = out["true_groups"]
    out["ours"]["k_within_half_to_twice"] = k / 2 <= out["ours"]["groups_found"] <= 2 * k
    if baselines:
        start = time.perf_counter()
        base = ref["cluster"].cluster("minilm_kmeans", texts, k)
        out["minilm_kmeans_true_k"] = figures(list(base), time.perf_counter() - start)
    return out


def duplicates(folder: Path, split: str, baselines: bool, ref) -> dict:  # type: ignore[no-untyped-def]
    ae = ref["ranking"]
    out = {}
    methods = ["townsquare.feedback.pipeline.eval_plugins:rank"]
    if baselines:
        methods += ["bm25", "minilm"]
    for method in methods:
        res = ae.evaluate(str(folder), split, method, idf="split", verbose=False)
        name = "ours" if ":" in method else method
        out[name] = {
            **{k: round(v, 2) for k, v in res["lei2016"].items() if k != "n_queries"},
            "queries_with_a_positive": res["lei2016"]["n_queries"],
            "semeval_all_queries": {k: round(v, 2) for k, v in res["all_queries"].items() if k != "n_queries"},
            "seconds": res["seconds"],
        }
    return out


def throughput() -> dict:
    from townsquare.feedback.pipeline.embed import MAX_TOKENS, embed, get_model

    get_model()
    short = [f"How do I rotate the API key for project number {i} without downtime?" for i in range(1000)]
    long = [
        (f"Message {i}: " + "the exporter stops after the first page of results and drops the rest " * 30)
        for i in range(100)
    ]
    res = {"max_tokens": MAX_TOKENS, "torch_threads": __import__("torch").get_num_threads()}
    for name, texts in (("short_texts_per_s", short), (f"{MAX_TOKENS}_token_texts_per_s", long)):
        embed(texts[:32])
        start = time.perf_counter()
        embed(texts)
        res[name] = round(len(texts) / (time.perf_counter() - start), 1)
    model = get_model()
    model.max_seq_length = 256
    try:
        start = time.perf_counter()
        embed(long)
        res["256_token_texts_per_s"] = round(len(long) / (time.perf_counter() - start), 1)
    finally:
        model.max_seq_length = MAX_TOKENS
    return res


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL, help="the reference scripts' folder")
    ap.add_argument("--intents", type=Path, help="label<TAB>text file (default: banking77-train.tsv)")
    ap.add_argument("--duplicates", type=Path, help="folder in the semeval2016-3B-dev layout")
    ap.add_argument("--split", default=None, help="annotation split name (default: dev)")
    ap.add_argument("--baselines", action="store_true", help="also run the reference methods")
    ap.add_argument("--skip-grouping", action="store_true")
    ap.add_argument("--skip-duplicates", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args()
    sys.path.insert(0, str(a.eval_dir))
    import askubuntu_eval
    import cluster_eval

    ref = {"cluster": cluster_eval, "ranking": askubuntu_eval}
    intents = a.intents or a.eval_dir / "intents" / "banking77-train.tsv"
    dups = a.duplicates or a.eval_dir / "duplicates" / "semeval2016-3B-dev"
    split = a.split or "dev"
    result: dict = {}
    if not a.skip_duplicates:
        result["duplicates"] = {"data": str(dups), "split": split, **duplicates(dups, split, a.baselines, ref)}
        print(json.dumps({"duplicates": result["duplicates"]}, indent=1), flush=True)
    if not a.skip_grouping:
        result["grouping"] = {"data": str(intents), **grouping(intents, a.baselines, ref)}
        print(json.dumps({"grouping": result["grouping"]}, indent=1), flush=True)
    if not a.skip_throughput:
        result["embedding_throughput"] = throughput()
        print(json.dumps({"embedding_throughput": result["embedding_throughput"]}, indent=1), flush=True)
    if a.json:
        a.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
