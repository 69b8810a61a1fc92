from __future__ import annotations

from django_tasks import task

from townsquare.core.scheduling import periodic
from townsquare.core.weeks import last_complete_week
from townsquare.reports import services


@periodic(name="weekly-report-drafts", cron="0 6 * * mon")
@task()
def build_weekly_report_drafts_task() -> int:
    """Monday morning (company time zone): draft last week's reports for the curators."""
    return len(services.reports_build_week(week_start=last_complete_week()))
