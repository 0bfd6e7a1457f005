"""Grants (what the assistant may do), spend caps and the auto-checkout threshold: the customer's choices.

Each change writes its audit event in the same transaction; a revocation announces itself after commit
(`consent.hooks.grant_revoked`, `consent.hooks.customer_notice`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from audit.models import ActorType
from audit.services import Origin
from config.tracing import get_trace_id
from consent import hooks
from consent.exceptions import CapAboveCeiling, GrantNotActive, InvalidGrant
from consent.formatting import format_money
from consent.models import (
    CapKind,
    ConsentGrant,
    ConsentProfile,
    GrantChannel,
    GrantStatus,
    Scope,
)
from consent.selectors import (
    CAP_WORDS,
    auto_checkout_ceiling,
    grant_effective_status,
    spend_cap_ceilings,
    spend_caps_effective,
)
from consent.services.profile import consent_audit_record, consent_profile_ensure

logger = logging.getLogger(__name__)


# -- grants --------------------------------------------------------------------------------------


def consent_grant(
    *,
    user_id: int,
    scope: Scope | str,
    via: GrantChannel | str,
    expires_at: datetime | None = None,
    actor_type: ActorType | str = ActorType.CUSTOMER,
    actor_id: int | str | None = None,
    origin: Origin | None = None,
) -> ConsentGrant:
    """Allow the assistant `scope`. Granting what is already live (same expiry) changes nothing.

    A live grant with another expiry, or an expired one, is superseded by the new grant, so the history
    of what was allowed when stays in the table.
    """
    scope = Scope(scope)
    now = timezone.now()
    if expires_at is not None and expires_at <= now:
        raise InvalidGrant("The expiry must be in the future.", scope=scope)
    consent_profile_ensure(user_id=user_id)
    with transaction.atomic():
        ConsentProfile.objects.select_for_update().get(user_id=user_id)
        current = ConsentGrant.objects.select_for_update().filter(
            user_id=user_id, scope=scope, status=GrantStatus.ACTIVE
        )
        current = current.first()
        if current is not None:
            if grant_effective_status(current, now=now) == "active" and current.expires_at == expires_at:
                return current
            current.status = GrantStatus.SUPERSEDED
            current.ended_at = now
            current.ended_via = via
            current.end_reason = "replaced by a new grant"
            current.save(update_fields=["status", "ended_at", "ended_via", "end_reason"])
        grant = ConsentGrant.objects.create(
            user_id=user_id,
            scope=scope,
            status=GrantStatus.ACTIVE,
            granted_at=now,
            granted_via=via,
            expires_at=expires_at,
        )
        consent_audit_record(
            "consent.grant_created",
            user_id=user_id,
            actor_type=actor_type,
            actor_id=user_id if actor_id is None and actor_type == ActorType.CUSTOMER else actor_id,
            target=grant,
            data={
                "scope": scope.value,
                "via": str(via),
                "expires_at": expires_at,
                "supersedes": getattr(current, "pk", None),
            },
            origin=origin,
        )
    logger.info("consent grant created", extra={"customer_id": user_id, "scope": scope.value, "grant_id": grant.pk})
    return grant


def consent_revoke(
    *,
    user_id: int,
    grant_id: int,
    via: GrantChannel | str,
    actor_type: ActorType | str = ActorType.CUSTOMER,
    actor_id: int | str | None = None,
    origin: Origin | None = None,
    reason: str = "",
) -> ConsentGrant:
    """Revoke a grant at once. Idempotent: revoking a revoked grant returns it unchanged.

    The revocation takes effect for every later consent check as soon as this commits. After commit,
    `consent.hooks.grant_revoked` (flows stop and compensate) and `consent.hooks.customer_notice` (the
    customer is told in chat) are sent. Another customer's grant is not found (DoesNotExist).
    """
    with transaction.atomic():
        grant = ConsentGrant.objects.select_for_update().get(pk=grant_id, user_id=user_id)
        if grant.status == GrantStatus.REVOKED:
            return grant
        if not grant.can_become(GrantStatus.REVOKED):
            raise GrantNotActive("This permission was already replaced by a newer one; revoke that one instead.")
        now = timezone.now()
        grant.status = GrantStatus.REVOKED
        grant.ended_at = now
        grant.ended_via = via
        grant.end_reason = reason[:200]
        grant.save(update_fields=["status", "ended_at", "ended_via", "end_reason"])
        consent_audit_record(
            "consent.grant_revoked",
            user_id=user_id,
            actor_type=actor_type,
            actor_id=user_id if actor_id is None and actor_type == ActorType.CUSTOMER else actor_id,
            target=grant,
            data={"scope": grant.scope, "via": str(via), "reason": reason[:200]},
            origin=origin,
        )
        trace_id = get_trace_id() or ""
        hooks.grant_revoked.send_on_commit(
            hooks.GrantRevoked(
                customer_id=user_id, grant_id=grant.pk, scope=grant.scope, revoked_at=now, trace_id=trace_id
            )
        )
        hooks.customer_notice.send_on_commit(
            hooks.CustomerNotice(
                customer_id=user_id,
                kind="grant_revoked",
                text=(
                    f"You revoked the permission “{grant.get_scope_display()}”. I have stopped every order "
                    "that was not placed yet and won't do this again until you allow it on your settings page."
                ),
                data={"grant_id": grant.pk, "scope": grant.scope},
                trace_id=trace_id,
            )
        )
    logger.info("consent grant revoked", extra={"customer_id": user_id, "scope": grant.scope, "grant_id": grant.pk})
    return grant


# -- caps and auto-checkout ----------------------------------------------------------------------


def spend_caps_set(
    *,
    user_id: int,
    caps: Mapping[str, int | None],
    actor_type: ActorType | str = ActorType.CUSTOMER,
    origin: Origin | None = None,
) -> ConsentProfile:
    """Choose caps, each at most its ceiling (None: back to the ceiling). Raises CapAboveCeiling."""
    ceilings = spend_cap_ceilings()
    profile = consent_profile_ensure(user_id=user_id)
    for kind, value in caps.items():
        if kind not in ceilings:
            raise CapAboveCeiling(f"There is no cap called {kind!r}; use one of {', '.join(ceilings)}.", cap=kind)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise CapAboveCeiling(f"The {CAP_WORDS[kind]} must be an amount of zero or more.", cap=kind)
        if value > ceilings[kind]:
            raise CapAboveCeiling(
                f"The {CAP_WORDS[kind]} can be at most {format_money(ceilings[kind], profile.currency)}; "
                f"you asked for {format_money(value, profile.currency)}. You can lower a cap, never raise it "
                "above that limit.",
                cap=kind,
                ceiling=ceilings[kind],
                requested=value,
            )
    with transaction.atomic():
        profile = ConsentProfile.objects.select_for_update().get(pk=profile.pk)
        before = {kind: getattr(profile, f"cap_{kind}") for kind in caps}
        changed = [kind for kind in caps if before[kind] != caps[kind]]
        if not changed:
            return profile
        for kind in changed:
            setattr(profile, f"cap_{kind}", caps[kind])
        profile.save(update_fields=[*(f"cap_{kind}" for kind in changed), "updated_at"])
        consent_audit_record(
            "consent.caps_changed",
            user_id=user_id,
            actor_type=actor_type,
            actor_id=user_id if actor_type == ActorType.CUSTOMER else None,
            target=profile,
            data={"before": {k: before[k] for k in changed}, "after": {k: caps[k] for k in changed}},
            origin=origin,
        )
    return profile


def auto_checkout_set(
    *,
    user_id: int,
    threshold: int,
    actor_type: ActorType | str = ActorType.CUSTOMER,
    origin: Origin | None = None,
) -> ConsentProfile:
    """Orders under `threshold` may skip the confirm step (0: always ask). At most the ceiling and per-order cap."""
    profile = consent_profile_ensure(user_id=user_id)
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise CapAboveCeiling("The auto-checkout threshold must be an amount of zero or more.", cap="auto_checkout")
    limit = min(auto_checkout_ceiling(), spend_caps_effective(profile=profile)[CapKind.PER_ORDER])
    if threshold > limit:
        raise CapAboveCeiling(
            f"The auto-checkout threshold can be at most {format_money(limit, profile.currency)} (the lower of the "
            f"auto-checkout limit and your per-order cap); you asked for {format_money(threshold, profile.currency)}.",
            cap="auto_checkout",
            ceiling=limit,
            requested=threshold,
        )
    with transaction.atomic():
        profile = ConsentProfile.objects.select_for_update().get(pk=profile.pk)
        before = profile.auto_checkout_threshold
        if before == threshold:
            return profile
        profile.auto_checkout_threshold = threshold
        profile.save(update_fields=["auto_checkout_threshold", "updated_at"])
        consent_audit_record(
            "consent.auto_checkout_changed",
            user_id=user_id,
            actor_type=actor_type,
            actor_id=user_id if actor_type == ActorType.CUSTOMER else None,
            target=profile,
            data={"before": before, "after": threshold, "currency": profile.currency},
            origin=origin,
        )
    return profile
