"""Feedback quality: the product's own code paths on labelled public data, with the reference baselines.

    .venv/bin/python benchmarks/feedback_quality.py                   # SemEval dev, long texts, banking77
    .venv/bin/python benchmarks/feedback_quality.py --baselines       # also MiniLM + k-means (true k), BM25, MiniLM
    .venv/bin/python benchmarks/feedback_quality.py --cross-validate  # how the ranking formula was chosen
    .venv/bin/python benchmarks/feedback_quality.py --subsets         # grouping on banking77 subsets, 20-77 groups
    .venv/bin/python benchmarks/feedback_quality.py --cost            # windows long feedback needs, real corpus -> 1M

Duplicates: SemEval 2016 3B dev (``<split>.txt`` and ``text_tokenized.txt.gz``) ranked by
``eval_plugins.rank``, which is "more like this"'s scoring (``pipeline.rank``: whole-text vectors,
cosine), scored by the reference script (MAP, MRR, P@1 over queries with a positive, Lei et al. 2016;
and the SemEval scorer's view). Long texts: the bitcoin-core/gui linked-issue set
(``benchmarks/longtext_duplicates.py``), every issue a candidate, ranked by the product's path (whole
vectors, the two index searches' shortlist for 10 results) against the stored 64-piece vectors alone
(the product before), plain MiniLM at 256 word pieces and BM25. Grouping: ``label<TAB>text`` lines
clustered by ``eval_plugins.cluster`` (the product's ``cluster_vectors``; the number of groups is
discovered), V-measure and ARI against the labels. The baselines are the reference scripts' own code,
imported from ``--eval-dir``. Speed figures print the CPU and the load average beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

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


def machine() -> dict:
    with open("/proc/cpuinfo") as handle:
        cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "?")
    return {"cpu": cpu, "cores": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]}


def longtext(ae, baselines: bool) -> dict:  # type: ignore[no-untyped-def]
    """The linked-issue set: the product's "more like this" path against what it did before and the baselines."""
    from benchmarks import longtext_duplicates as ld

    data = ld.load()
    strict = ld.load(strict=True)
    v = ld.vectors(data.titles, data.bodies, ae)
    views = {
        "all": ld.github_queries(data),
        "strict": ld.github_queries(strict),
        "part_0": [q for q in ld.github_queries(data) if data.part[q.qid] == 0],
        "part_1": [q for q in ld.github_queries(data) if data.part[q.qid] == 1],
    }
    methods = {
        "ours_more_like_this": ld.product_scorer(v, shortlist_of=10),
        "ours_whole_ranking_every_issue": ld.product_scorer(v),
        "before_stored_64_piece_vectors": ld.cosine_scorer(v.head, v),
    }
    if baselines:
        methods["minilm_256"] = ld.cosine_scorer(v.minilm, v)
        bm25 = ld.bm25_scores(v, views["all"], ae, pool_idf=False)
        methods["bm25"] = lambda qid, candidates: bm25[qid]
    windows = sum(len(w) for w in v.windows[256])
    long_texts = sum(1 for w in v.windows[256] if len(w))
    out: dict = {
        "issues": len(v.ids),
        "linked_pairs": sum(len(p) for p in data.positives.values()) // 2,
        "long_texts": long_texts,
        "windows_embedded": windows,
        "seconds": {k: round(x, 1) for k, x in v.seconds.items()},
        "machine": machine(),
    }
    for name, queries in views.items():
        out[name] = {method: ld.metrics(ld.ranked(queries, score), ae) for method, score in methods.items()}
    return out


def cross_validate(ae, dups: Path, split: str) -> dict:  # type: ignore[no-untyped-def]
    """Leave one set out over four sets: SemEval dev in two halves of its queries, the linked-issue set in
    its two halves. Each fold picks, on the three other sets (mean of MAP + MRR), the window width, a head
    cosine weight and a BM25 weight (BM25 scaled to the pool's best, idf from the pool, as "more like this"
    could compute it), then scores the set left out; the weight-free form is scored beside it."""
    from benchmarks import longtext_duplicates as ld
    from townsquare.feedback.pipeline import rank

    titles, bodies, squeries = ld.semeval_queries(dups, split, ae)
    sem = ld.vectors(titles, bodies, ae, widths=(256, 128))
    data = ld.load()
    gh = ld.vectors(data.titles, data.bodies, ae, widths=(256, 128))
    gq = ld.github_queries(data)
    sets = {
        "semeval_a": (sem, squeries[0::2]),
        "semeval_b": (sem, squeries[1::2]),
        "github_0": (gh, [q for q in gq if data.part[q.qid] == 0]),
        "github_1": (gh, [q for q in gq if data.part[q.qid] == 1]),
    }
    lexical = {}
    for v, queries in ((sem, squeries), (gh, gq)):
        for qid, scores in ld.bm25_scores(v, queries, ae, pool_idf=True).items():
            lexical[id(v), qid] = scores / max(float(scores.max()), 1e-9)
    wholes = {
        (id(v), width): np.stack([rank.whole_of(h, w) for h, w in zip(v.head, v.windows[width])])
        for v in (sem, gh)
        for width in (256, 128)
    }
    grid = [(w, a, lam) for w in (256, 128) for a in (0.0, 0.2, 0.4) for lam in (0.0, 0.1, 0.2)]

    def figures(name: str, params: tuple) -> dict:  # type: ignore[type-arg]
        v, queries = sets[name]
        width, a, lam = params
        whole, row = wholes[id(v), width], v.row()

        def score(qid: str, candidates: list[str]) -> np.ndarray:
            rows = [row[c] for c in candidates]
            q = row[qid]
            return (1 - a) * (whole[rows] @ whole[q]) + a * (v.head[rows] @ v.head[q]) + lam * lexical[id(v), qid]

        return ld.metrics(ld.ranked(queries, score), ae)

    table = {(name, p): figures(name, p) for name in sets for p in grid}
    out: dict = {}
    for held in sets:
        train = [n for n in sets if n != held]
        best = max(grid, key=lambda p: np.mean([table[n, p]["MAP"] + table[n, p]["MRR"] for n in train]))
        out[held] = {
            "chosen_on_the_others": {"window": best[0], "head_weight": best[1], "bm25_weight": best[2]},
            "tuned_held_out": table[held, best],
            "weight_free_held_out": table[held, (256, 0.0, 0.0)],
            "minilm_256": ld.metrics(
                ld.ranked(sets[held][1], ld.cosine_scorer(sets[held][0].minilm, sets[held][0])), ae
            ),
        }
    return out


def grouping_subsets(eval_dir: Path, ref, seeds: int) -> dict:  # type: ignore[no-untyped-def]
    """banking77 subsets of 20, 50 and 77 intents (all texts, or 30 per intent), several seeds: the
    product's grouping against MiniLM + k-means given the true k (the reference script's k-means on the
    reference script's embeddings, computed once for all texts)."""
    from sklearn import metrics
    from sklearn.cluster import KMeans

    from townsquare.feedback.pipeline.cluster import cluster_vectors
    from townsquare.feedback.pipeline.embed import embed
    from townsquare.sources.text import prepare

    texts, labels = load_intents(eval_dir / "intents" / "banking77-train.tsv")
    ours_all = embed([prepare(None, t) for t in texts])
    reference = ref["cluster"].embed_minilm(texts)
    y_all = np.array(labels)
    intents = sorted(set(labels))
    out = {}
    for k in (20, 50, 77):
        for per in (0, 30):
            for seed in range(seeds if k < 77 or per else 1):
                rng = np.random.default_rng(1000 * k + 10 * per + seed)
                chosen = set(rng.choice(intents, k, replace=False).tolist()) if k < len(intents) else set(intents)
                rows = np.array([i for i, lab in enumerate(labels) if lab in chosen])
                if per:
                    rows = np.sort(
                        np.concatenate(
                            [rng.choice(rows[y_all[rows] == lab], per, replace=False) for lab in sorted(chosen)]
                        )
                    )
                y = y_all[rows]
                started = time.perf_counter()
                pred = cluster_vectors(ours_all[rows])
                seconds = time.perf_counter() - started
                base = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(reference[rows])
                out[f"{k}_intents_{per or 'all'}_per_intent_seed{seed}"] = {
                    "texts": len(rows),
                    "ours": {
                        "V": round(100 * metrics.v_measure_score(y, pred), 1),
                        "ARI": round(100 * metrics.adjusted_rand_score(y, pred), 1),
                        "groups": len(set(pred.tolist())),
                        "seconds": round(seconds, 1),
                    },
                    "minilm_kmeans_true_k": {
                        "V": round(100 * metrics.v_measure_score(y, base), 1),
                        "ARI": round(100 * metrics.adjusted_rand_score(y, base), 1),
                    },
                }
                print(json.dumps({k_: v for k_, v in out.items() if k_ == list(out)[-1]}), flush=True)
    return out


def cost() -> dict:
    """Windows that long feedback needs: the real corpus (what the 1M end-to-end benchmark draws from)
    through the pre-filter, the first vectors and the shipped classifier, then scaled to 1,000,000."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    os.environ.setdefault("TOWNSQUARE_DATA_DIR", "/tmp/townsquare-bench-quality")
    # the models the other sections (no Django) built and use
    os.environ.setdefault("TOWNSQUARE_MODEL_CACHE", str(Path.home() / ".cache" / "townsquare" / "models"))
    import django

    django.setup()  # the connectors that read the real corpus are Django code
    from benchmarks import real_corpus
    from townsquare.feedback.pipeline import classify, embed
    from townsquare.feedback.pipeline.prefilter import screen
    from townsquare.sources.text import looks_usable, prepare

    records = list(real_corpus.records())
    kept, limits = [], []
    for _, record in records:
        text = prepare(record.title, record.body)
        opens = real_corpus.starts_thread(record)
        if looks_usable(text) and screen(text, kind=record.kind, starts_thread=opens).keep:
            kept.append(text)
            limits.append(embed.MAX_TOKENS if opens else embed.REPLY_TOKENS)
    started = time.perf_counter()
    heads = embed.embed(kept, limits=limits)
    head_seconds = time.perf_counter() - started
    train_texts, train_labels = classify.load_training()
    model = classify.train(embed.embed([prepare(None, t) for t in train_texts]), train_labels, cross_validate=False)
    feedback = [t for t, p in zip(kept, classify.predict(model, heads)) if p.kind != "not_feedback"]
    windows = embed.long_windows(feedback)
    flat = [w for per_text in windows for w in per_text]
    started = time.perf_counter()
    embed.embed_windows(flat)
    window_seconds = time.perf_counter() - started
    scale = 1_000_000 / len(records)
    return {
        "real_messages": len(records),
        "passed_prefilter": len(kept),
        "classified_feedback": len(feedback),
        "feedback_longer_than_64_pieces": sum(1 for w in windows if w),
        "windows": len(flat),
        "first_vectors_per_s": round(len(kept) / head_seconds, 1),
        "windows_per_s": round(len(flat) / max(window_seconds, 1e-9), 1),
        "estimate_1M": {
            "windows": round(len(flat) * scale),
            "minutes_at_this_rate": round(len(flat) * scale / max(len(flat) / max(window_seconds, 1e-9), 1e-9) / 60, 1),
            "first_vector_minutes_at_this_rate": round(len(kept) * scale / (len(kept) / head_seconds) / 60, 1),
        },
        "machine": machine(),
    }


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
    ap.add_argument("--cross-validate", action="store_true", help="leave-one-set-out choice of the ranking formula")
    ap.add_argument("--subsets", action="store_true", help="grouping on banking77 subsets of 20 to 77 intents")
    ap.add_argument("--seeds", type=int, default=3, help="random subsets per size (--subsets)")
    ap.add_argument("--cost", action="store_true", help="windows long feedback needs, real corpus and 1M estimate")
    ap.add_argument("--skip-grouping", action="store_true")
    ap.add_argument("--skip-duplicates", action="store_true")
    ap.add_argument("--skip-longtext", action="store_true")
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

    def show(name: str, value: dict) -> None:
        result[name] = value
        print(json.dumps({name: value}, indent=1), flush=True)

    if not a.skip_duplicates:
        show("duplicates", {"data": str(dups), "split": split, **duplicates(dups, split, a.baselines, ref)})
    if not a.skip_longtext:
        show("long_text_duplicates", longtext(askubuntu_eval, a.baselines))
    if a.cross_validate:
        show("cross_validation", cross_validate(askubuntu_eval, dups, split))
    if not a.skip_grouping:
        show("grouping", {"data": str(intents), **grouping(intents, a.baselines, ref)})
    if a.subsets:
        show("grouping_subsets", grouping_subsets(a.eval_dir, ref, a.seeds))
    if a.cost:
        show("long_text_cost", cost())
    if not a.skip_throughput:
        show("embedding_throughput", {**throughput(), "machine": machine()})
    if a.json:
        a.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
