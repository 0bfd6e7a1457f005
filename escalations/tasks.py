"""The human-in-the-loop queue: Celery tasks, thin: take ids, load the row, call one service; safe to run twice."""

from celery import shared_task
from django.conf import settings

from config.celery import MAIL_TASK_OPTIONS
from escalations import services


@shared_task(name="escalations.notify", **MAIL_TASK_OPTIONS)
def escalation_notify(escalation_id: int) -> str:
    return services.escalation_notify(escalation_id=escalation_id)


@shared_task(name="escalations.notify_pending", ignore_result=True)
def escalations_notify_pending() -> list[int]:
    # Older than one sweep interval: younger ones may still have their own task in flight.
    return services.escalations_notify_pending(older_than_seconds=settings.ESCALATIONS_NOTIFY_SWEEP_SECONDS)
