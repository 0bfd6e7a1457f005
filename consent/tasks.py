"""Consent grants, spend caps, vault-only payment methods, step-up.

Celery tasks, thin: take ids, load the row, call one service; safe to run twice.
"""

from celery import shared_task
from django.conf import settings

from config.celery import MAIL_TASK_OPTIONS
from consent.services import notices as notice_services
from consent.services.ledger import spend_release_expired


@shared_task(name="consent.release_expired_reservations", acks_late=True, ignore_result=True)
def release_expired_reservations() -> int:
    """Beat, every minute: write release rows for expired reservations (idempotent per reservation)."""
    return spend_release_expired()


@shared_task(name="consent.security_notice_send", **MAIL_TASK_OPTIONS)
def security_notice_send(notice_id: int) -> str:
    """E-mail the customer about a change to their account (a card, an address, an authenticator)."""
    return notice_services.security_notice_send(notice_id=notice_id)


@shared_task(name="consent.security_notices_send_pending", ignore_result=True)
def security_notices_send_pending() -> list[int]:
    # Older than one sweep interval: younger ones may still have their own task in flight.
    return notice_services.security_notices_send_pending(older_than_seconds=settings.CONSENT_NOTICE_SWEEP_SECONDS)


@shared_task(name="consent.policy_publish_active", ignore_result=True)
def policy_publish_active() -> str:
    """Beat: copy the active policy version from the database into the shared cache (idempotent)."""
    from consent.policies.services import policy_publish_active as publish

    return publish()
