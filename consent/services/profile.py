"""The customer's consent profile, and the audit record every consent service writes with its change."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.db import IntegrityError, transaction

from audit.models import ActorType, Outcome
from audit.services import Origin, audit_record
from consent.models import ConsentProfile


def consent_audit_record(
    action: str,
    *,
    user_id: int,
    actor_type: ActorType | str,
    actor_id: int | str | None,
    target: object | None = None,
    data: Mapping | None = None,
    origin: Origin | None = None,
    outcome: Outcome | str = Outcome.OK,
    policy_version: str | None = None,
) -> None:
    """Record a change to a customer's consent, wallet or spend in the audit log, as an event of that customer
    (it shows in their activity log when the action is on its allow-list). Call it inside the change's transaction."""
    audit_record(
        action=action,
        actor_type=actor_type,
        actor_id=actor_id,
        customer_id=user_id,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=getattr(target, "pk", None),
        outcome=outcome,
        data=data,
        origin=origin,
        policy_version=policy_version,
    )


def consent_profile_ensure(*, user_id: int) -> ConsentProfile:
    """The customer's profile row, created on first use (safe under concurrent first uses)."""
    profile = ConsentProfile.objects.filter(user_id=user_id).first()
    if profile is not None:
        return profile
    try:
        with transaction.atomic():
            return ConsentProfile.objects.create(user_id=user_id, currency=settings.CONSENT_CURRENCY)
    except IntegrityError:
        return ConsentProfile.objects.get(user_id=user_id)
