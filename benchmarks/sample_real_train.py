"""Draw the unlabelled rows of ``training/real_train.tsv`` from the real archives in ``../shared/data``.

The labelled draw was then split in two (see the header of ``real_train.tsv``): the openly licensed
archives' rows stay in ``real_train.tsv`` with their text; the others went to ``real_holdout.tsv``
as labels only (``--labels`` reads either layout).

Every message that ``real_corpus.records()`` yields is kept when the feedback pipeline would classify it
(the same keep rule as ``training/eval_real.tsv``): its author is not a bot, its kind is not in
``feedback.services.SKIPPED_KINDS`` and ``sources.text.prepare(title, body)`` passes ``looks_usable``.
Messages whose external_id or text is already in ``eval_real.tsv`` are dropped, so the two sets share no
message (five of the real archives are byte-identical to the demo archives that eval_real was drawn from).
Then ``--per-kind`` messages are drawn per archive kind with ``random.Random(--seed).sample`` over that
kind's kept messages sorted by external_id; the rows come out sorted by kind, then external_id.

Rows are ``label<TAB>source<TAB>external_id<TAB>text`` with ``source`` = the archive kind and the
prepared text with tabs/newlines collapsed to spaces, cut at 1,000 characters. The label is ``?`` unless
``--labels FILE`` names an earlier labelled file: its labels are carried over by (source, external_id).
Kept and drawn counts per kind, and what was dropped, are printed on stderr. ``--context FILE`` also writes each drawn
row's channel, whether it opens its thread, and its parent's text: reading aid for the labeller, not part of the set.
The archives are found where ``real_corpus`` looks (``../shared/data`` beside the checkout; a worktree elsewhere needs a
``shared`` symlink next to it). The header of ``real_train.tsv`` is written by hand.

    PYTHONPATH=. .venv/bin/python benchmarks/sample_real_train.py > /tmp/unlabelled.tsv
    PYTHONPATH=. .venv/bin/python benchmarks/sample_real_train.py --labels townsquare/feedback/training/real_train.tsv
"""

from __future__ import annotations

import argparse
import collections
import os
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRAINING = ROOT / "townsquare" / "feedback" / "training"
SEED = 20261126
PER_KIND = 100
MAX_TEXT = 1000
_SPACES = re.compile(r"[\t\r\n]+")


def tsv_rows(path: Path) -> list[tuple[str, str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, source, external_id, *text = line.split("\t", 3)  # real_holdout.tsv has no text column
            rows.append((label, source, external_id, text[0] if text else ""))
    return rows


def one_line(text: str) -> str:
    return _SPACES.sub(" ", text).strip()[:MAX_TEXT].strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--per-kind", type=int, default=PER_KIND)
    ap.add_argument("--exclude", type=Path, default=TRAINING / "eval_real.tsv")
    ap.add_argument("--labels", type=Path, help="carry labels over from this earlier labelled file")
    ap.add_argument("--context", type=Path, help="also write, per drawn row, its channel, thread start and parent text")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    os.environ.setdefault("TOWNSQUARE_DATA_DIR", "/tmp/townsquare-bench-sample")
    import django

    django.setup()
    from benchmarks import real_corpus
    from townsquare.feedback.services import SKIPPED_KINDS
    from townsquare.sources.text import looks_usable, prepare

    if not real_corpus.available():
        print(f"{real_corpus.SHARED_DATA} not found", file=sys.stderr)
        return 1
    excluded = tsv_rows(args.exclude) if args.exclude.exists() else []
    excluded_ids = {external_id for _label, _source, external_id, _text in excluded}
    excluded_texts = {text for _label, _source, _external_id, text in excluded}
    labels = (
        {(source, external_id): label for label, source, external_id, _text in tsv_rows(args.labels)}
        if args.labels
        else {}
    )

    pool: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    about: dict[str, tuple[str, bool, str]] = {}  # external_id -> (channel, starts thread, parent id), for --context
    dropped: collections.Counter[str] = collections.Counter()
    texts: dict[str, str] = {}
    for kind, record in real_corpus.records():
        text = prepare(record.title, record.body)
        texts[record.external_id] = one_line(text)
        if record.author is not None and record.author.is_bot:
            dropped["bot"] += 1
            continue
        if record.kind in SKIPPED_KINDS:
            dropped["skipped kind"] += 1
            continue
        if not looks_usable(text):
            dropped["unusable"] += 1
            continue
        line = one_line(text)
        if record.external_id in excluded_ids or line in excluded_texts:
            dropped["in eval_real"] += 1
            continue
        pool[kind].append((record.external_id, line))
        about[record.external_id] = (
            record.channel.name if record.channel else "",
            real_corpus.starts_thread(record),
            record.parent_external_id or record.thread_external_id,
        )

    rng = random.Random(args.seed)
    out: list[str] = []
    context: list[str] = []
    for kind in sorted(pool):
        messages = sorted(set(pool[kind]))
        drawn = rng.sample(messages, min(args.per_kind, len(messages)))
        print(f"{kind:20} {len(messages):6} kept, {len(drawn)} drawn", file=sys.stderr)
        for external_id, line in sorted(drawn):
            out.append(f"{labels.get((kind, external_id), '?')}\t{kind}\t{external_id}\t{line}")
            channel, starts, parent = about[external_id]
            context.append(
                f"{kind}\t{external_id}\t{channel}\t{'START' if starts else 'reply'}\t"
                f"{texts.get(parent, '')[:300] if parent != external_id else ''}"
            )
    print(f"dropped: {dict(dropped)}", file=sys.stderr)
    sys.stdout.write("".join(f"{row}\n" for row in out))
    if args.context:
        args.context.write_text("".join(f"{row}\n" for row in context), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
