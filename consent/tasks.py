"""Consent grants, spend caps, vault-only payment methods, step-up.

Celery tasks, thin: take ids, load the row, call one service; safe to run twice.
"""

from celery import shared_task

from consent.services import spend_release_expired


@shared_task(name="consent.release_expired_reservations", acks_late=True, ignore_result=True)
def release_expired_reservations() -> int:
    """Beat, every minute: write release rows for expired reservations (idempotent per reservation)."""
    return spend_release_expired()
