"""Draw the second batch of real_train.tsv's rows: messages the classifier sees, from training communities only.

The first draw (``sample_real_train.py``) sampled every usable message; most of them never reach the
classifier, because the pre-filter drops them. This one samples what the classifier is asked about in the
pipeline: a message is kept when the pipeline would classify it (author not a bot, kind not in
``feedback.services.SKIPPED_KINDS``, ``prepare(title, body)`` passes ``looks_usable``) and
``prefilter.screen`` (with the message's kind and thread start) passes it. Only the archives of
``TRAIN_ARCHIVES`` are read: the communities real_train.tsv already comes from. real_holdout.tsv's
communities (Urho3D forum, bitcoin-core/gui, the R lists, #fluid-work) are never drawn from, and no
message of real_train.tsv, real_holdout.tsv or eval_real.tsv (by external_id or text) is drawn again.
Then ``--per-archive`` messages per archive with ``random.Random(--seed).sample`` over that archive's kept
messages sorted by external_id; rows come out sorted by archive kind, then external_id, as
``?<TAB>kind<TAB>external_id<TAB>text`` (text one line, cut at 1,000 characters, as in real_train.tsv).
``--context FILE`` writes, per row, the archive, whether it opens its thread and its opener's text: the
reading aid for labelling (a reply is judged with its opener), not part of the set.

    PYTHONPATH=. .venv/bin/python benchmarks/sample_real_more.py --context /tmp/context.tsv > /tmp/more.tsv
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TRAINING = ROOT / "townsquare" / "feedback" / "training"
SEED = 20261206
PER_ARCHIVE = 45
# real_train.tsv's communities (see its header); real_holdout.tsv's are left out on purpose.
TRAIN_ARCHIVES = (
    "slack/houstondatavis-slack-export-2016-07-31.zip",
    "discord/pyscript-discordchatexporter-html",
    "discord/infrahub-discord-forum-api/data.zip",
    "irc/ubuntu-irclogs",
    "stackexchange/datascience.meta.stackexchange.com",
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--per-archive", type=int, default=PER_ARCHIVE)
    ap.add_argument("--context", type=Path, help="also write each row's archive, thread start and opener text")
    args = ap.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    os.environ.setdefault("TOWNSQUARE_DATA_DIR", "/tmp/townsquare-bench-sample")
    import django

    django.setup()
    from benchmarks import real_corpus
    from benchmarks.sample_real_train import one_line, tsv_rows
    from townsquare.feedback.pipeline import prefilter
    from townsquare.feedback.services import SKIPPED_KINDS
    from townsquare.sources.connectors import connector_for
    from townsquare.sources.connectors.base import MessageRecord
    from townsquare.sources.models import Source
    from townsquare.sources.text import looks_usable, prepare

    if not real_corpus.available():
        print(f"{real_corpus.SHARED_DATA} not found", file=sys.stderr)
        return 1
    taken = [
        row for name in ("real_train.tsv", "real_holdout.tsv", "eval_real.tsv") for row in tsv_rows(TRAINING / name)
    ]
    taken_ids = {external_id for _label, _source, external_id, _text in taken}
    taken_texts = {text for *_, text in taken if text}

    rng = random.Random(args.seed)
    out: list[tuple[str, str, str]] = []
    context: list[str] = []
    for kind, relative, config in real_corpus.ARCHIVES:
        if relative not in TRAIN_ARCHIVES or not (real_corpus.SHARED_DATA / relative).exists():
            continue
        source = Source(kind=kind, name=f"bench {relative}", config=config)
        records = {
            item.external_id: item
            for item in connector_for(source, path=real_corpus.SHARED_DATA / relative).fetch({})
            if isinstance(item, MessageRecord)
        }
        pool = []
        for record in records.values():
            text = prepare(record.title, record.body)
            if (record.author is not None and record.author.is_bot) or record.kind in SKIPPED_KINDS:
                continue
            if not looks_usable(text) or record.external_id in taken_ids or one_line(text) in taken_texts:
                continue
            starts = real_corpus.starts_thread(record)
            if prefilter.screen(text, kind=record.kind, starts_thread=starts).keep:
                pool.append((record.external_id, one_line(text), starts))
        drawn = sorted(rng.sample(sorted(pool), min(args.per_archive, len(pool))))
        print(f"{relative:50} {len(pool):6} kept, {len(drawn)} drawn", file=sys.stderr)
        for external_id, line, starts in drawn:
            out.append((kind, external_id, line))
            opener = records.get(records[external_id].thread_external_id or "")
            opener_text = one_line(prepare(opener.title, opener.body))[:400] if opener and not starts else ""
            context.append(f"{kind}\t{external_id}\t{relative}\t{'START' if starts else 'reply'}\t{opener_text}")
    order = sorted(range(len(out)), key=lambda i: out[i][:2])
    sys.stdout.write("".join(f"?\t{out[i][0]}\t{out[i][1]}\t{out[i][2]}\n" for i in order))
    if args.context:
        args.context.write_text("".join(f"{context[i]}\n" for i in order), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
