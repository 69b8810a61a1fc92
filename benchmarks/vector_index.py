"""The file vector index's settings: what an insert costs and how often the true neighbours are found.

    .venv/bin/python benchmarks/vector_index.py [--vectors 60000] [--queries 200]

Vectors: unit vectors drawn around 3,000 random centres (clustered, as message embeddings are; the
index's cost and recall depend on that shape more than on the texts). For each usearch layout (dtype,
expansion_add) it prints the CPU time of inserting them in batches of 300 as a sweep does, the index's
memory, and recall@10 against exact search: straight from the index, and after the 31 candidates that
``services.more_like_this`` asks for are ranked again with exact vectors (as it does with the stored ones).
The product's setting is ``feedback.vectors.INDEX_DTYPE`` / ``INDEX_EXPANSION_ADD``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LAYOUTS = [("f32", 128), ("f32", 64), ("f16", 48), ("i8", 128), ("i8", 48), ("i8", 32), ("i8", 16)]
CANDIDATES = 31  # more_like_this: limit * 3 + 1 for its default limit of 10


def clustered(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3000, 384)).astype(np.float32)
    vectors = centres[rng.integers(0, len(centres), count)] + 0.8 * rng.standard_normal((count, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vectors", type=int, default=60_000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()

    from townsquare.feedback.pipeline.native import usearch_index_class

    index_class = usearch_index_class()
    vectors = clustered(args.vectors)
    rng = np.random.default_rng(1)
    queries = vectors[rng.integers(0, len(vectors), args.queries)]
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    print(f"{len(vectors):,} clustered unit vectors, {args.queries} queries, exact top 10 as truth")
    for dtype, expansion in LAYOUTS:
        index = index_class(ndim=384, metric="cos", dtype=dtype, expansion_add=expansion)
        started = time.process_time()
        for start in range(0, len(vectors), 300):
            index.add(
                np.arange(start, start + 300, dtype=np.uint64)[: len(vectors) - start], vectors[start : start + 300]
            )
        cpu = time.process_time() - started
        found = index.search(queries, CANDIDATES)
        straight, reranked = [], []
        for i in range(len(queries)):
            keys = np.asarray(found.keys[i], dtype=np.int64)
            keys = keys[(keys >= 0) & (keys < len(vectors))]
            straight.append(len(set(exact[i]) & set(keys[:10].tolist())) / 10)
            best = keys[np.argsort(-(vectors[keys] @ queries[i]))][:10]
            reranked.append(len(set(exact[i]) & set(best.tolist())) / 10)
        print(
            f"  {dtype:>3} expansion_add {expansion:3}: insert {1000 * cpu / len(vectors):.3f} ms CPU per vector, "
            f"memory {index.memory_usage / 2**20:,.0f} MiB, recall@10 {np.mean(straight):.3f}, "
            f"after exact ranking of {CANDIDATES} candidates {np.mean(reranked):.3f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
