from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import CommandError
from django_rich.management import RichCommand
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from townsquare.feedback import services

logger = logging.getLogger("townsquare.feedback.cli")
CHUNK = 1000


class Command(RichCommand):
    help = (
        "Feedback pipeline: 'embed' embeds, classifies and assigns pending messages; 'group' re-groups the recent "
        "window and proposes merges and splits; 'retrain' retrains the classifier from the seed set and corrections."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        embed = sub.add_parser("embed", help="Process messages not yet through the pipeline.")
        embed.add_argument("--limit", type=int, default=0, help="At most this many messages (0 = all pending).")
        group = sub.add_parser("group", help="Re-group the recent window; proposals only, nothing is moved.")
        group.add_argument("--days", type=int, default=services.RECLUSTER_DAYS)
        sub.add_parser("retrain", help="Retrain the feedback classifier.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "embed":
            self._embed(options["limit"])
        elif action == "group":
            if options["days"] < 1:
                raise CommandError("--days must be at least 1")
            start = time.perf_counter()
            result = services.themes_recluster(days=options["days"])
            self.console.print(
                f"Re-grouped {result.done:,} messages in {time.perf_counter() - start:.1f} s: "
                f"{result.proposals:,} proposals for curators",
                highlight=False,
            )
        else:
            version = services.classifier_train()
            accuracy = f"{100 * version.cv_accuracy:.1f}%" if version.cv_accuracy is not None else "n/a"
            self.console.print(
                f"Classifier {version.pk}: {version.seed_examples} seed + {version.curated_examples} curated examples, "
                f"cross-validated accuracy {accuracy}",
                highlight=False,
            )

    def _embed(self, limit: int) -> None:
        pending = services.messages_pending_count()
        if limit:
            pending = min(pending, limit)
        if not pending:
            self.console.print("Nothing pending.")
            return
        totals = {"assigned": 0, "new_themes": 0, "skipped": 0, "failed": 0}
        progress = None
        if self.console.is_terminal:
            progress = Progress(
                TextColumn("feedback"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=self.console
            )
            progress.start()
            bar = progress.add_task("embed", total=pending)

        def report(done: int, result: services.BatchResult) -> None:
            totals["assigned"] += result.done
            totals["new_themes"] += result.new_themes
            totals["skipped"] += result.skipped
            totals["failed"] += result.failed
            if progress is not None:
                progress.update(bar, completed=done)
            else:
                logger.info("feedback embed: %s of %s messages", done, pending)
                self.console.print(f"{done:,} of {pending:,} messages", highlight=False)

        start = time.perf_counter()
        try:
            processed = services.messages_process_pending(batch=CHUNK, limit=limit, on_batch=report)
        finally:
            if progress is not None:
                progress.stop()
        self.console.print(
            f"Processed {processed:,} messages in {time.perf_counter() - start:.1f} s: "
            + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in totals.items()),
            highlight=False,
        )
