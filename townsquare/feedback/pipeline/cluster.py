"""Grouping by meaning without being told how many groups there are.

A k-nearest-neighbour graph of the (unit) embeddings, weighted by cosine similarity, split into
communities by Louvain modularity (igraph's compiled multilevel algorithm, seeded, so a run is
reproducible). Modularity finds the number of groups itself; its resolution decides how fine they
are, and we pick it per data set from a ladder by the cosine silhouette of the result: well
separated, compact groups win. The number of groups one resolution gives grows with the number of
texts, so the ladder starts at 0.5: on banking77 subsets of 20 intents with all their texts (2,400-2,700),
the old ladder's coarsest step (1.0) already gave 31-34 groups and silhouette chose 37-51 (ARI 58-67,
below MiniLM + k-means given k at 67-70); with 0.5 and 0.75 it chooses 21-23 groups (ARI 75-76). It
stops at 4: silhouette rises again on very fine partitions (on 50 intents, 6,400 texts: 0.212 at 8 for
149 groups, ARI 45, against 0.206 at 0.75 for 44 groups, ARI 62; k-means given k: 58). Measured with
``benchmarks/feedback_quality.py --subsets``.

Large windows (more than ``SAMPLE_FOR_RESOLUTION`` texts) pick the resolution on a random sample and
run Louvain once over the whole graph; neighbours come from usearch's HNSW index there instead of a
dense similarity matrix.
"""

from __future__ import annotations

import random
import threading
from typing import Any

import numpy as np

KNN = 7
RESOLUTIONS = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
SILHOUETTE_SAMPLE = 3000
SAMPLE_FOR_RESOLUTION = 12000
DENSE_LIMIT = 15000
KNN_EXPANSION_ADD = 64
SEED = 0


def knn_graph(vectors: np.ndarray, k: int = KNN) -> tuple[np.ndarray, np.ndarray]:
    """(neighbour ids, similarities), shape ``(n, k)``, excluding each point itself."""
    n = len(vectors)
    k = min(k, n - 1)
    if n <= DENSE_LIMIT:
        idx = np.empty((n, k), dtype=np.int64)
        sims = np.empty((n, k), dtype=np.float32)
        for start in range(0, n, 2048):
            block = vectors[start : start + 2048] @ vectors.T
            rows = np.arange(block.shape[0])
            block[rows, rows + start] = -np.inf
            part = np.argpartition(-block, k - 1, axis=1)[:, :k]
            idx[start : start + 2048] = part
            sims[start : start + 2048] = np.take_along_axis(block, part, 1)
        return idx, sims
    from townsquare.feedback.pipeline.native import usearch_index_class

    Index = usearch_index_class()

    # Building the graph is most of a large window's cost: half of usearch's default effort when adding
    # (200,000 vectors: 29 s instead of 122 s, 81% instead of 90% of the exact 7 neighbours found, on
    # noisy synthetic vectors), with the default effort when searching.
    index = Index(ndim=vectors.shape[1], metric="cos", dtype="f32", expansion_add=KNN_EXPANSION_ADD)
    keys = np.arange(n, dtype=np.uint64)
    index.add(keys, vectors, threads=0)
    found = index.search(vectors, k + 1, threads=0)
    idx = np.asarray(found.keys, dtype=np.int64).reshape(n, -1)
    sims = 1.0 - np.asarray(found.distances, dtype=np.float32).reshape(n, -1)
    # Keep each row's first k hits in the index's order, leaving out the point itself and the empty
    # slots past the number of hits HNSW found.
    slots = np.arange(idx.shape[1])
    valid = (idx != np.arange(n)[:, None]) & (slots[None, :] < np.asarray(found.counts).reshape(n, 1))
    pick = np.argsort(~valid, axis=1, kind="stable")[:, :k]
    out_idx = np.take_along_axis(idx, pick, 1)
    out_sims = np.take_along_axis(sims, pick, 1)
    hits = valid.sum(axis=1)
    short = slots[None, :k] >= hits[:, None]
    if short.any():  # HNSW may return fewer hits; pad with the best one (or, with none, a zero-weight self)
        best_idx = np.where(hits > 0, out_idx[:, 0], np.arange(n))
        best_sims = np.where(hits > 0, out_sims[:, 0], np.float32(0.0))
        out_idx = np.where(short, best_idx[:, None], out_idx)
        out_sims = np.where(short, best_sims[:, None], out_sims)
    return out_idx, out_sims.astype(np.float32, copy=False)


def _graph(idx: np.ndarray, sims: np.ndarray) -> Any:  # an igraph.Graph (igraph ships no types)
    """The undirected kNN graph: one edge per neighbour pair (either direction), weighted by cosine."""
    import igraph

    n = len(idx)
    rows = np.repeat(np.arange(n, dtype=np.int64), idx.shape[1])
    cols = idx.ravel().astype(np.int64, copy=False)
    weights = np.clip(sims.ravel().astype(np.float64), 0.0, None)
    keep = (weights > 0) & (rows != cols)
    low, high, weights = np.minimum(rows, cols)[keep], np.maximum(rows, cols)[keep], weights[keep]
    # i -> j and j -> i are the same edge: keep it once
    _, first = np.unique(low * n + high, return_index=True)
    graph = igraph.Graph(n=n, edges=np.column_stack([low[first], high[first]]))
    graph.es["weight"] = weights[first].tolist()
    return graph


# igraph draws its random numbers from one process-wide generator; each run gets its own seeded one.
_RNG_LOCK = threading.Lock()


def _louvain(graph: Any, n: int, resolution: float) -> np.ndarray:
    import igraph

    with _RNG_LOCK:
        igraph.set_random_number_generator(random.Random(SEED))
        try:
            found = graph.community_multilevel(weights="weight", resolution=resolution)
        finally:
            igraph.set_random_number_generator(random)  # igraph's default: the random module
    membership = np.asarray(found.membership, dtype=np.int64)
    # largest community first, so ids are stable in meaning across runs ("0" is the biggest group);
    # ties go to the community holding the lowest index
    ids, first, sizes = np.unique(membership, return_index=True, return_counts=True)
    order = np.lexsort((first, -sizes))
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank[np.searchsorted(ids, membership)]


def _silhouette(vectors: np.ndarray, labels: np.ndarray) -> float:
    from sklearn.metrics import silhouette_score

    groups = len(set(labels.tolist()))
    if groups < 2 or groups > len(vectors) - 1:
        return -1.0
    size = min(SILHOUETTE_SAMPLE, len(vectors))
    return float(silhouette_score(vectors, labels, metric="cosine", sample_size=size, random_state=SEED))


def choose_resolution(vectors: np.ndarray) -> float:
    if len(vectors) > SAMPLE_FOR_RESOLUTION:
        rng = np.random.default_rng(SEED)
        vectors = vectors[rng.choice(len(vectors), SAMPLE_FOR_RESOLUTION, replace=False)]
    graph = _graph(*knn_graph(vectors))
    scored = [(_silhouette(vectors, _louvain(graph, len(vectors), r)), r) for r in RESOLUTIONS]
    return max(scored)[1]


def cluster_vectors(vectors: np.ndarray, *, resolution: float | None = None) -> np.ndarray:
    """Cluster ids (0 = the largest group) for unit vectors; the number of groups is discovered."""
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if n < 3:
        return (
            np.zeros(n, dtype=np.int64) if n == 1 else np.array([0, 0 if float(vectors[0] @ vectors[1]) > 0.7 else 1])
        )
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if resolution is None and n <= SAMPLE_FOR_RESOLUTION:
        graph = _graph(*knn_graph(vectors))
        candidates = [_louvain(graph, n, r) for r in RESOLUTIONS]
        scores = [_silhouette(vectors, labels) for labels in candidates]
        return candidates[int(np.argmax(scores))]
    if resolution is None:
        resolution = choose_resolution(vectors)
    return _louvain(_graph(*knn_graph(vectors)), n, resolution)


def centroids(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cluster ids, unit centroids) for every cluster id present in ``labels`` (ids >= 0).

    One pass over the vectors whatever the number of clusters (a 200,000-message window may hold
    tens of thousands of themes): rows are sorted by cluster and summed a run at a time.
    """
    keep = labels >= 0
    vectors, labels = vectors[keep], labels[keep]
    if len(labels) == 0:
        return np.unique(labels), np.zeros((0, vectors.shape[1]), dtype=np.float32)
    order = np.argsort(labels, kind="stable")
    ids, starts, counts = np.unique(labels[order], return_index=True, return_counts=True)
    sums = np.add.reduceat(vectors[order].astype(np.float64), starts, axis=0)
    cents = (sums / counts[:, None]).astype(np.float32)
    norms = np.linalg.norm(cents, axis=1, keepdims=True)
    return ids, cents / np.where(norms > 0, norms, 1.0)


def neighbour_rank(cents: np.ndarray, i: int, j: int) -> int:
    """How many other centroids are closer to centroid ``i`` than ``j`` is (0: ``j`` is its nearest).

    Computed for one pair at a time: a full rank matrix over k themes is k x k (gigabytes at 20,000).
    """
    sims = cents @ cents[i]
    sims[i] = -np.inf
    return int((sims > sims[j]).sum())
