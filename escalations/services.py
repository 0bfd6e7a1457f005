"""The human-in-the-loop queue and the staff who work it: writes."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import ActorType
from audit.services import audit_record
from config.tracing import get_trace_id
from escalations.models import OPEN_STATUSES, Escalation, EscalationReason


class StaffUserExists(Exception):
    """A staff account with that username is already there; pass `replace_device` to re-enrol it."""


@transaction.atomic
def staff_user_create(
    *,
    username: str,
    password: str,
    email: str = "",
    superuser: bool = False,
    replace_device: bool = False,
) -> tuple[AbstractUser, TOTPDevice]:
    """Create (or re-enrol) a staff account with one confirmed TOTP device.

    The device is confirmed at once because the person running this prints its provisioning URI on
    a trusted terminal; the admin still refuses the account until a code from it has been entered.
    """
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is not None and not replace_device:
        raise StaffUserExists(username)
    if user is None:
        user = user_model(username=username, email=email)
    validate_password(password, user)
    user.is_staff = True
    user.is_superuser = superuser or user.is_superuser
    user.set_password(password)
    user.save()
    replaced = TOTPDevice.objects.filter(user=user).delete()[0] > 0
    device = TOTPDevice.objects.create(user=user, name=f"{username} authenticator", confirmed=True)
    audit_record(
        action="staff.device_replaced" if replaced else "staff.created",
        actor_type=ActorType.SYSTEM,
        target_type="user",
        target_id=user.pk,
        data={"username": user.username, "superuser": user.is_superuser},
    )
    return user, device


def escalation_open(
    *,
    reason: EscalationReason | str,
    customer_id: int,
    flow_id: object | None = None,
    conversation_id: object | None = None,
    detail: str = "",
    actor_type: ActorType | str = ActorType.SYSTEM,
) -> Escalation:
    """Open an escalation, or return the one already open for this flow and reason (idempotent)."""
    reason = EscalationReason(reason)
    if flow_id is not None:
        existing = Escalation.objects.filter(flow_id=flow_id, reason=reason, status__in=OPEN_STATUSES).first()
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                reason=reason,
                customer_id=customer_id,
                flow_id=flow_id,
                conversation_id=conversation_id,
                detail=detail,
                trace_id=get_trace_id() or "",
            )
            audit_record(
                action="escalation.opened",
                actor_type=actor_type,
                customer_id=customer_id,
                target_type="escalation",
                target_id=escalation.pk,
                data={"reason": reason.value, "flow_id": str(flow_id) if flow_id else None, "detail": detail[:500]},
            )
    except IntegrityError:
        # A concurrent caller opened it between our check and insert.
        return Escalation.objects.get(flow_id=flow_id, reason=reason, status__in=OPEN_STATUSES)
    return escalation
