from __future__ import annotations

from django_tasks import task

from townsquare.core.scheduling import periodic
from townsquare.notify import services


@task(queue_name="notify")
def deliver_notification_task(notification_id: int) -> str:
    return services.notification_deliver(notification_id=notification_id)


@periodic(name="notify-sweep", cron="* * * * *")
@task(queue_name="notify")
def deliver_due_notifications_task() -> int:
    return services.notifications_deliver_due()
