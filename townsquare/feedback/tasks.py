from __future__ import annotations

from django_tasks import task

from townsquare.core.scheduling import periodic
from townsquare.feedback import services


@task(queue_name="feedback")
def process_messages_task(message_ids: list[int]) -> int:
    return services.messages_process(message_ids=message_ids).done


@periodic(name="feedback-process-pending", cron="*/10 * * * *")
@task(queue_name="feedback")
def process_pending_messages_task() -> int:
    return services.messages_process_pending()


@periodic(name="feedback-regroup", cron="30 2 * * *")
@task(queue_name="feedback")
def regroup_themes_task() -> int:
    return services.themes_recluster().proposals


@periodic(name="feedback-refresh-scores", cron="15 * * * *")
@task(queue_name="feedback")
def refresh_theme_scores_task() -> int:
    return services.themes_refresh_all()


@periodic(name="feedback-retrain", cron="0 3 * * 0")
@task(queue_name="feedback")
def retrain_classifier_task() -> int:
    return services.classifier_train().pk
