"""Embedding throughput per runtime on real community messages, and distance from the reference.

    .venv/bin/python benchmarks/feedback_embedding.py [--sample 2000] [--runs 3]

The texts: a fixed random sample of the real archives in ../shared/data (read by our connectors)
that pass the pre-filter, prepared as the pipeline prepares them: what the product really embeds.
For each runtime (torch = sentence-transformers, the reference; onnx; onnx-int8) it prints texts/s
and word pieces/s (best of ``--runs``), and each runtime's mean and minimum cosine to the reference.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    os.environ.setdefault("TOWNSQUARE_DATA_DIR", "/tmp/townsquare-bench-embedding")
    os.environ.setdefault("TOWNSQUARE_MODEL_CACHE", str(ROOT / ".cache" / "models"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import django

    django.setup()
    from benchmarks import real_corpus
    from townsquare.feedback.pipeline import embed
    from townsquare.feedback.pipeline.prefilter import screen
    from townsquare.sources.text import looks_usable, prepare

    texts = []
    for _, record in real_corpus.records():
        text = prepare(record.title, record.body)
        if looks_usable(text) and screen(text, kind=record.kind, starts_thread=real_corpus.starts_thread(record)).keep:
            texts.append(text)
    texts = random.Random(5).sample(texts, min(args.sample, len(texts)))
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(embed.model_path()) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(embed.MAX_TOKENS)
    tokens = sum(len(e.ids) for e in tokenizer.encode_batch(texts))
    load = os.getloadavg()[0]
    print(
        f"{len(texts):,} real texts that pass the pre-filter ({tokens / len(texts):.0f} word pieces each on average); {os.cpu_count()} cores; load average {load:.1f}"
    )
    results = {}
    for runtime in ("torch", "onnx", "onnx-int8"):
        embed.embed(texts[:64], runtime=runtime)  # load or build outside the timing
        best = float("inf")
        for _ in range(args.runs):
            started = time.perf_counter()
            vectors = embed.embed(texts, runtime=runtime)
            best = min(best, time.perf_counter() - started)
        results[runtime] = vectors
        cosine = (vectors * results["torch"]).sum(1)
        print(
            f"  {runtime:10} {len(texts) / best:7.1f} texts/s {tokens / best:9,.0f} word pieces/s   mean cosine to torch {cosine.mean():.4f} (min {cosine.min():.4f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
