from __future__ import annotations

from django_tasks import task

from townsquare.core.scheduling import periodic
from townsquare.notify import services


@task(queue_name="notify")
def deliver_notification_task(notification_id: int) -> str:
    return services.notification_deliver(notification_id=notification_id)


@task(queue_name="notify")
def deliver_notifications_task(notification_ids: list[int]) -> dict[str, int]:
    """Deliver a batch recorded by one transaction; each row is still claimed on its own."""
    outcomes: dict[str, int] = {}
    for notification_id in notification_ids:
        status = services.notification_deliver(notification_id=notification_id)
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes


@periodic(name="notify-sweep", cron="* * * * *")
@task(queue_name="notify")
def deliver_due_notifications_task() -> int:
    return services.notifications_deliver_due()
