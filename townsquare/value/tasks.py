from __future__ import annotations

from django_tasks import task

from townsquare.core.scheduling import periodic
from townsquare.value import services


@periodic(name="value-report-quarter-end", cron="30 6 1 * *")
@task()
def build_value_report_task() -> int | None:
    """The first of each month (after the nightly health recompute): draft the quarter that just ended, if it did."""
    report = services.value_report_build_ended_quarter()
    return report.pk if report else None
