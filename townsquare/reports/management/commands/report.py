from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django_rich.management import RichCommand
from rich.markup import escape

from townsquare.core.errors import TownsquareError
from townsquare.core.weeks import iso_week_label, last_complete_week, parse_week
from townsquare.people.models import Team
from townsquare.reports import services
from townsquare.reports.models import Report


class Command(RichCommand):
    help = "Weekly feedback reports: `report build [--week W]` drafts them, `report publish --week W --department D` publishes."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        build = sub.add_parser("build", help="Build (or keep) the drafts of a week for every department with themes.")
        build.add_argument("--week", help="ISO week (2026-W47) or a date in it; default: last complete week.")
        build.add_argument("--rebuild", action="store_true", help="Replace existing drafts (curators' edits are lost).")
        publish = sub.add_parser("publish", help="Publish a week's draft: email subscribers, post the chat summary.")
        publish.add_argument("--week", help="ISO week (2026-W47) or a date in it; default: last complete week.")
        publish.add_argument("--department", required=True, help="Team slug, or 'all' for the company-wide report.")

    def _week(self, value: str | None) -> Any:
        try:
            return parse_week(value) if value else last_complete_week()
        except ValueError as exc:
            raise CommandError(str(exc)) from None

    def handle(self, *args: Any, **options: Any) -> None:
        week = self._week(options.get("week"))
        if options["action"] == "build":
            drafts = services.reports_build_week(week_start=week, rebuild=options["rebuild"])
            for draft in drafts:
                self.console.print(f"{escape(str(draft))}: {draft.items.count()} themes, draft {draft.pk}")
            if not drafts:
                self.console.print(f"Nothing to draft for {iso_week_label(week)}: every report is published already.")
            return
        slug = options["department"]
        department = None
        if slug != "all":
            department = Team.objects.filter(slug=slug).first()
            if department is None:
                raise CommandError(f"no department with slug {slug!r}")
        report = Report.objects.filter(week_start=week, department=department).order_by("-revision").first()
        if report is None:
            raise CommandError(f"no report for {iso_week_label(week)} and {slug}: run `townsquare report build` first")
        try:
            outcome = services.report_publish(report=report, by=None)
        except TownsquareError as exc:
            raise CommandError(str(exc)) from None
        if outcome.sent_now:
            self.console.print(f"Published {escape(str(report))}: {len(outcome.notifications)} notifications queued.")
        else:
            self.console.print(f"{escape(str(report))} was already published: nothing sent again.")
