"""Security notices: the e-mail that tells the customer of a change to their account, written in the change's
transaction and sent after commit (at most once; a sweeper sends what a lost enqueue left behind)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from consent.models import SecurityNotice, SecurityNoticeKind

logger = logging.getLogger(__name__)


def security_notice_create(
    *, user_id: int, kind: SecurityNoticeKind, subject: str, what: str, undo: str
) -> SecurityNotice:
    """Write the e-mail about an account change inside the change's transaction; send it after commit.

    `what` names the change as the customer would recognise it (never a secret, never more of a card
    than its last four digits); `undo` is what to do if it was not them.
    """
    from consent import tasks

    body = (
        f"{what}. If this was you, there is nothing to do.\n\n"
        f"If this wasn't you, sign in at {settings.CONSENT_SITE_URL}/settings/ now, {undo}, revoke the assistant's "
        "permissions there and change your password. Someone may be using your account.\n"
    )
    notice = SecurityNotice.objects.create(user_id=user_id, kind=kind, subject=subject, body=body)
    notice_id = notice.pk
    transaction.on_commit(lambda: tasks.security_notice_send.delay(notice_id))
    return notice


def security_notice_send(*, notice_id: int) -> str:
    """E-mail one notice, at most once (safe to run twice, or concurrently).

    The conditional update claims the notice before sending, so two deliveries send one e-mail; a send
    that fails gives the claim back and raises, for the task to retry.
    """
    from django.core.mail import send_mail

    now = timezone.now()
    claimed = SecurityNotice.objects.filter(pk=notice_id, sent_at__isnull=True).update(sent_at=now)
    if not claimed:
        return "already_sent" if SecurityNotice.objects.filter(pk=notice_id).exists() else "missing"
    notice = SecurityNotice.objects.select_related("user").get(pk=notice_id)
    email = (notice.user.email or "").strip()
    if not email:
        SecurityNotice.objects.filter(pk=notice_id).update(skipped_reason="no e-mail address")
        logger.warning("no e-mail address for a security notice", extra={"customer_id": notice.user_id})
        return "no_address"
    try:
        send_mail(notice.subject, notice.body, settings.CONSENT_NOTICE_FROM, [email])
    except Exception:
        SecurityNotice.objects.filter(pk=notice_id, sent_at=now).update(sent_at=None)
        raise
    logger.info("security notice sent", extra={"customer_id": notice.user_id, "kind": notice.kind})
    return "sent"


def security_notices_send_pending(*, older_than_seconds: int = 60) -> list[int]:
    """Notices nobody sent (the enqueue after commit was lost): enqueue them now."""
    from consent import tasks

    quiet_since = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = list(
        SecurityNotice.objects.filter(sent_at__isnull=True, created_at__lt=quiet_since)
        .order_by("created_at")
        .values_list("pk", flat=True)[:200]
    )
    for notice_id in pending:
        tasks.security_notice_send.delay(notice_id)
    return pending
