"""The human-in-the-loop queue: Celery tasks, thin: take ids, load the row, call one service; safe to run twice."""

import smtplib

from celery import shared_task
from django.conf import settings

from escalations import services


@shared_task(
    name="escalations.notify",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # A mail server that is down or refusing for a moment: try again, a little later each time.
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=8,
)
def escalation_notify(escalation_id: int) -> str:
    return services.escalation_notify(escalation_id=escalation_id)


@shared_task(name="escalations.notify_pending", ignore_result=True)
def escalations_notify_pending() -> list[int]:
    # Older than one sweep interval: younger ones may still have their own task in flight.
    return services.escalations_notify_pending(older_than_seconds=settings.ESCALATIONS_NOTIFY_SWEEP_SECONDS)
