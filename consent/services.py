"""Consent grants, spend caps, vault-only payment methods, step-up.

Writes. Every change of state goes through a function here, and each one that changes what the
assistant may do writes an audit event in the same transaction (so the event exists exactly when the
change does).

Lock order, to stay free of deadlocks: the caller's own rows (an order flow) first, then a customer's
ConsentProfile row or a spend reservation row. audit_record takes no lock (one INSERT; the chain is
sealed later), so audit events may come before or after these services in a caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import ActorType, Outcome
from audit.services import Origin, audit_record
from catalog_adapters.contract import StoredCard
from config.tracing import get_trace_id
from consent import hooks
from consent.exceptions import (
    CapAboveCeiling,
    GrantNotActive,
    InvalidAddress,
    InvalidGrant,
    InvalidPaymentMethod,
    MerchantAccountMissing,
    MerchantVaultUnavailable,
    PaymentMethodNotAtMerchant,
    SpendCapExceeded,
    SpendCommitExceedsReservation,
    SpendCurrencyMismatch,
    SpendReservationConflict,
    SpendReservationNotFound,
    SpendReservationSettled,
    StepUpInvalidCode,
    StepUpNotEnrolled,
    StepUpProofInvalid,
    StepUpProofRequired,
    StepUpThrottled,
)
from consent.formatting import format_money
from consent.models import (
    Address,
    CapKind,
    CardBrand,
    ConsentGrant,
    ConsentProfile,
    GrantChannel,
    GrantStatus,
    MerchantAccount,
    PaymentMethod,
    Scope,
    SecurityNotice,
    SecurityNoticeKind,
    SpendEntry,
    SpendKind,
    StepUpEnrolment,
    StepUpVerification,
    no_card_number_validator,
    vault_reference_validator,
)
from consent.selectors import (
    CAP_WORDS,
    auto_checkout_ceiling,
    grant_effective_status,
    merchant_account_for_customer,
    spend_cap_ceilings,
    spend_caps_effective,
    spend_caps_verify,
    spend_expired_reservations,
    spend_reservations_held,
    spend_totals,
    stepup_device,
)
from consent.siblings import default_for_new, default_move_to, default_remove

logger = logging.getLogger(__name__)

STEPUP_DEVICE_NAME = "customer step-up"
_SETTLED_WORDS = {SpendKind.COMMIT: "committed", SpendKind.RELEASE: "released"}


def _audit(
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


# -- profile -------------------------------------------------------------------------------------


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


def _lock_profile(user_id: int) -> ConsentProfile:
    """The customer's profile, locked (one query; created first on the customer's first use)."""
    profile = ConsentProfile.objects.select_for_update().filter(user_id=user_id).first()
    if profile is None:
        consent_profile_ensure(user_id=user_id)
        profile = ConsentProfile.objects.select_for_update().get(user_id=user_id)
    return profile


def _lock_customer(user_id: int) -> ConsentProfile:
    """Serialize one customer's writes to their cards and addresses (defaults, duplicates) on their profile row."""
    consent_profile_ensure(user_id=user_id)
    return ConsentProfile.objects.select_for_update().get(user_id=user_id)


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
        _audit(
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
        _audit(
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
        _audit(
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
        _audit(
            "consent.auto_checkout_changed",
            user_id=user_id,
            actor_type=actor_type,
            actor_id=user_id if actor_type == ActorType.CUSTOMER else None,
            target=profile,
            data={"before": before, "after": threshold, "currency": profile.currency},
            origin=origin,
        )
    return profile


# -- spend ledger --------------------------------------------------------------------------------


def _same_reservation(existing: SpendEntry, *, user_id: int, amount: int, currency: str) -> SpendEntry:
    if existing.user_id != user_id or existing.amount != amount or existing.currency != currency:
        raise SpendReservationConflict(
            "This flow reference already holds a different reservation; use a new reference for a new amount.",
            flow_reference=existing.flow_reference,
        )
    return existing


def spend_reserve(
    *,
    user_id: int,
    amount: int,
    currency: str,
    flow_reference: str,
    chat_session_reference: str = "",
    ttl_seconds: int | None = None,
    actor_type: ActorType | str = ActorType.AGENT,
    actor_id: str | None = None,
) -> SpendEntry:
    """Reserve `amount` against every cap of the customer, or raise SpendCapExceeded naming the cap.

    Atomic under concurrency: the customer's profile row is locked (`select_for_update` on PostgreSQL;
    SQLite's IMMEDIATE transactions serialize writers anyway) while used spend is summed and the
    reservation inserted, so concurrent reservations never exceed a cap together. Idempotent per
    `flow_reference`: the same call again returns the existing reservation (a UniqueConstraint).
    The reservation stops counting when it expires (`ttl_seconds`, default CONSENT_RESERVATION_TTL_SECONDS).
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive integer of minor units")
    if not flow_reference:
        raise ValueError("flow_reference is required")
    currency = currency.upper()
    ttl = timedelta(seconds=ttl_seconds or settings.CONSENT_RESERVATION_TTL_SECONDS)
    # No savepoint of its own inside a caller's transaction (two round trips fewer per placed order): every
    # refusal is decided before anything is written and returned out of the block, then raised, so it never
    # spoils the caller's transaction; the insert itself cannot fail on the reference (ON CONFLICT DO NOTHING).
    with transaction.atomic(savepoint=False):
        outcome = _reserve_locked(
            user_id=user_id,
            amount=amount,
            currency=currency,
            flow_reference=flow_reference,
            chat_session_reference=chat_session_reference,
            ttl=ttl,
            actor_type=actor_type,
            actor_id=actor_id,
        )
    if isinstance(outcome, SpendCapExceeded):
        # The refusal is recorded after the locked block (which wrote nothing), so the customer sees in their
        # log why an order stopped.
        _audit(
            "spend.reserve_denied",
            user_id=user_id,
            actor_type=actor_type,
            actor_id=actor_id,
            outcome=Outcome.DENIED,
            policy_version=outcome.policy_version or None,
            data={
                **outcome.details,
                "flow_reference": flow_reference,
                "chat_session_reference": chat_session_reference,
            },
        )
        logger.info("spend reservation denied", extra={"customer_id": user_id, "cap": outcome.cap})
        raise outcome
    if isinstance(outcome, Exception):
        raise outcome
    entry, created = outcome
    if created:
        logger.info(
            "spend reserved", extra={"customer_id": user_id, "flow_reference": flow_reference, "amount": amount}
        )
    return entry


def _reserve_locked(
    *,
    user_id: int,
    amount: int,
    currency: str,
    flow_reference: str,
    chat_session_reference: str,
    ttl: timedelta,
    actor_type: ActorType | str,
    actor_id: str | None,
) -> tuple[SpendEntry, bool] | SpendCapExceeded | SpendCurrencyMismatch | SpendReservationConflict:
    """`spend_reserve` inside its transaction: (the reservation, whether this call made it), or the refusal.

    Two queries decide: the profile's lock, then (a statement of its own, so it sees every reservation
    committed while we waited) the sums of every window and this flow's reservation.
    """
    try:
        profile = _lock_profile(user_id)
        now = timezone.now()
        totals = spend_totals(
            user_id=user_id,
            currency=currency,
            chat_session_reference=chat_session_reference,
            now=now,
            flow_reference=flow_reference,
        )
        if totals.reservation_id is not None:
            existing = SpendEntry.objects.get(pk=totals.reservation_id)
            return _same_reservation(existing, user_id=user_id, amount=amount, currency=currency), False
        if currency != profile.currency:
            raise SpendCurrencyMismatch(
                f"Your spend caps are in {profile.currency}; this order is in {currency}.",
                currency=currency,
                expected=profile.currency,
            )
        spend_caps_verify(
            caps=spend_caps_effective(profile=profile),
            used=totals.used,
            amount=amount,
            currency=currency,
            chat_session_reference=chat_session_reference,
        )
        entry = SpendEntry(
            user_id=user_id,
            kind=SpendKind.RESERVE,
            amount=amount,
            currency=currency,
            flow_reference=flow_reference,
            chat_session_reference=chat_session_reference,
            created_at=now,
            expires_at=now + ttl,
        )
        if not _insert_unless_taken(entry):
            # Another customer's reservation holds this reference (ours would have been found under our lock).
            existing = SpendEntry.objects.filter(kind=SpendKind.RESERVE, flow_reference=flow_reference).first()
            if existing is None:
                raise IntegrityError(f"the reservation of {flow_reference!r} conflicts with a row that is gone")
            return _same_reservation(existing, user_id=user_id, amount=amount, currency=currency), False
    except (SpendCapExceeded, SpendCurrencyMismatch, SpendReservationConflict) as refusal:
        return refusal
    _audit(
        "spend.reserved",
        user_id=user_id,
        actor_type=actor_type,
        actor_id=actor_id,
        target=entry,
        data={
            "amount": amount,
            "currency": currency,
            "flow_reference": flow_reference,
            "chat_session_reference": chat_session_reference,
            "expires_at": entry.expires_at,
        },
    )
    return entry, True


def _insert_unless_taken(entry: SpendEntry) -> bool:
    """`INSERT … ON CONFLICT DO NOTHING RETURNING id`: True, with `entry.pk` set, when the row went in; False when
    a unique constraint holds its place already (nothing raised, so the caller's transaction goes on)."""
    options = SpendEntry._meta
    quote = connection.ops.quote_name
    fields = [field for field in options.concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(getattr(entry, field.attname), connection) for field in fields]
    # Identifiers only are formatted in; every value is a parameter.
    sql = (
        f"INSERT INTO {quote(options.db_table)} ({', '.join(quote(field.column) for field in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) ON CONFLICT DO NOTHING RETURNING {quote(options.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    entry.pk = row[0]
    entry._state.adding = False
    entry._state.db = connection.alias
    return True


# A charge that completes after its reservation was released is committed against a reservation of
# this derived reference (the released one can be settled only once): the commit still counts.
LATE_COMMIT_SUFFIX = ":late"


def _settle(
    *,
    flow_reference: str,
    kind: SpendKind,
    amount: int | None,
    reason: str,
    actor_type: ActorType | str,
    unless_held: bool = False,
) -> SpendEntry | None:
    # No savepoint of its own inside a caller's transaction (two round trips fewer per placed order):
    # a refusal is returned out of the block and raised after it, so it never spoils the caller's
    # transaction; a database error spoils it as it would anyway.
    with transaction.atomic(savepoint=False):
        try:
            outcome = _settle_locked(
                flow_reference=flow_reference,
                kind=kind,
                amount=amount,
                reason=reason,
                actor_type=actor_type,
                unless_held=unless_held,
            )
        except (SpendCommitExceedsReservation, SpendReservationNotFound, SpendReservationSettled) as refusal:
            # Raised before anything was written (amount checks, a missing or settled reservation).
            outcome = refusal
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def _settle_locked(
    *,
    flow_reference: str,
    kind: SpendKind,
    amount: int | None,
    reason: str,
    actor_type: ActorType | str,
    unless_held: bool,
) -> SpendEntry | None:
    """`_settle` inside its transaction: lock the reservation, then read its settlement (a statement of its
    own: in READ COMMITTED it sees a settlement committed while we waited for the lock)."""
    reservation = (
        SpendEntry.objects.select_for_update().filter(kind=SpendKind.RESERVE, flow_reference=flow_reference).first()
    )
    if reservation is None:
        if kind == SpendKind.RELEASE:
            return None  # a compensation for a reservation that never happened has nothing to undo
        raise SpendReservationNotFound(
            f"No spend reservation for flow {flow_reference!r}.", flow_reference=flow_reference
        )
    settlement = SpendEntry.objects.filter(reservation=reservation).first()
    if settlement is not None:
        if settlement.kind == kind:
            return settlement
        if kind == SpendKind.COMMIT:
            # The merchant charged although the reservation was given back: the ledger records the
            # charge anyway, or the caps would not know about money that was spent.
            return _commit_late(reservation=reservation, released=settlement, amount=amount, actor_type=actor_type)
        raise SpendReservationSettled(
            f"The reservation of flow {flow_reference!r} was already {_SETTLED_WORDS[settlement.kind]}.",
            flow_reference=flow_reference,
            settled_as=settlement.kind,
        )
    # Asked under the reservation's lock: a flow that completes commits under the same lock, so the
    # sweeper either sees the flow still placing (and keeps the reservation) or sees the commit.
    if unless_held and spend_reservations_held(flow_references={flow_reference}):
        return None
    amount = _commit_amount(reservation, amount) if kind == SpendKind.COMMIT else reservation.amount
    entry = SpendEntry.objects.create(
        user_id=reservation.user_id,
        kind=kind,
        amount=amount,
        currency=reservation.currency,
        flow_reference=flow_reference,
        chat_session_reference=reservation.chat_session_reference,
        reservation=reservation,
        created_at=timezone.now(),
        reason=reason[:100],
    )
    _audit(
        f"spend.{'committed' if kind == SpendKind.COMMIT else 'released'}",
        user_id=reservation.user_id,
        actor_type=actor_type,
        actor_id=None,
        target=entry,
        data={
            "amount": amount,
            "currency": reservation.currency,
            "flow_reference": flow_reference,
            "reason": reason[:100],
        },
    )
    logger.info("spend %s", entry.kind, extra={"customer_id": entry.user_id, "flow_reference": flow_reference})
    return entry


def _commit_amount(reservation: SpendEntry, amount: int | None) -> int:
    amount = reservation.amount if amount is None else amount
    if amount <= 0 or amount > reservation.amount:
        raise SpendCommitExceedsReservation(
            f"Cannot commit {amount} against a reservation of {reservation.amount}; reserve the new amount.",
            flow_reference=reservation.flow_reference,
        )
    return amount


def _commit_late(
    *, reservation: SpendEntry, released: SpendEntry, amount: int | None, actor_type: ActorType | str
) -> SpendEntry:
    """Commit a charge whose reservation was already released. The caller holds the reservation's lock.

    A fresh reservation under a derived reference is settled at once by the commit (so it never
    counts as a reservation, only the commit does); a second call finds that commit (idempotent).
    """
    amount = _commit_amount(reservation, amount)
    late_reference = f"{reservation.flow_reference}{LATE_COMMIT_SUFFIX}"
    late = SpendEntry.objects.filter(kind=SpendKind.RESERVE, flow_reference=late_reference).first()
    if late is not None:
        existing = SpendEntry.objects.filter(reservation=late).first()
        if existing is not None:
            return existing
    now = timezone.now()
    if late is None:
        late = SpendEntry.objects.create(
            user_id=reservation.user_id,
            kind=SpendKind.RESERVE,
            amount=amount,
            currency=reservation.currency,
            flow_reference=late_reference,
            chat_session_reference=reservation.chat_session_reference,
            created_at=now,
            expires_at=now,
            reason="late_commit",
        )
    entry = SpendEntry.objects.create(
        user_id=reservation.user_id,
        kind=SpendKind.COMMIT,
        amount=amount,
        currency=reservation.currency,
        flow_reference=late_reference,
        chat_session_reference=reservation.chat_session_reference,
        reservation=late,
        created_at=now,
        reason="late_commit",
    )
    # The signal for a person: a charge landed after its reservation was given back, so the caps may
    # have been passed by whatever used the room meanwhile.
    _audit(
        "spend.committed_late",
        user_id=reservation.user_id,
        actor_type=actor_type,
        actor_id=None,
        target=entry,
        data={
            "amount": amount,
            "currency": reservation.currency,
            "flow_reference": reservation.flow_reference,
            "released_at": released.created_at,
            "released_because": released.reason,
        },
    )
    logger.warning(
        "spend committed after its reservation was released",
        extra={"customer_id": reservation.user_id, "flow_reference": reservation.flow_reference, "amount": amount},
    )
    return entry


def spend_commit(
    *, flow_reference: str, amount: int | None = None, actor_type: ActorType | str = ActorType.AGENT
) -> SpendEntry:
    """Record that the reserved money was spent (the merchant order exists). Idempotent.

    `amount` defaults to the reservation's and may be lower, never higher. A completed charge always
    counts against the caps: a reservation that expired is committed as usual, and one already
    released gets a late commit (`spend.committed_late` in the audit log). Raises
    SpendReservationNotFound when the flow never reserved.
    """
    entry = _settle(
        flow_reference=flow_reference, kind=SpendKind.COMMIT, amount=amount, reason="", actor_type=actor_type
    )
    if entry is None:  # _settle returns None only to a release or a sweep, never to a commit
        raise RuntimeError(f"Committing the spend of flow {flow_reference!r} recorded no ledger entry.")
    return entry


def spend_release(
    *, flow_reference: str, reason: str = "flow_ended", actor_type: ActorType | str = ActorType.AGENT
) -> SpendEntry | None:
    """Give a reservation back (the flow ended without an order, or it expired). Idempotent.

    Returns None when there was no reservation (a compensation of a step that never ran). Raises
    SpendReservationSettled if the reservation was committed: undoing a charge is a refund, not this.
    """
    return _settle(
        flow_reference=flow_reference, kind=SpendKind.RELEASE, amount=None, reason=reason, actor_type=actor_type
    )


def spend_release_expired(*, now: datetime | None = None, limit: int = 500) -> int:
    """Write release rows for expired reservations no flow holds any more. Returns how many.

    A reservation whose flow is placing is skipped (consent.hooks.spend_reservations_held): its charge
    may complete any moment and must find the reservation standing.
    """
    released = 0
    candidates = list(spend_expired_reservations(now=now).values_list("flow_reference", flat=True)[: limit * 4])
    # Held ones are skipped up front too, so a crowd of placing flows cannot take every slot of a sweep.
    held = spend_reservations_held(flow_references=candidates)
    for flow_reference in [reference for reference in candidates if reference not in held][:limit]:
        try:
            entry = _settle(
                flow_reference=flow_reference,
                kind=SpendKind.RELEASE,
                amount=None,
                reason="expired",
                actor_type=ActorType.SYSTEM,
                unless_held=True,
            )
        except SpendReservationSettled:
            continue  # committed meanwhile: nothing to release
        if entry is not None and entry.reason == "expired":
            released += 1
    return released


def spend_refund(
    *,
    flow_reference: str,
    amount: int,
    refund_key: str,
    reason: str = "merchant_refund",
    actor_type: ActorType | str = ActorType.SYSTEM,
    actor_id: str | None = None,
) -> tuple[SpendEntry | None, bool]:
    """Give money the merchant returned (a refund, a cancellation) back to the caps; (entry, created).

    `flow_reference` is the reservation whose charge was committed. The refund row points at that
    commit and counts in the windows of the charge (a refund today of last month's order frees last
    month's room, not today's), so used spend never goes below zero. Exactly once per `refund_key`
    (a UniqueConstraint), and never more than was committed for the flow in total: a refund reported
    twice, or a cancellation and a refund of the same money, is credited once. Under the reservation's
    lock, like every settlement, so concurrent refunds of one order add up without passing the charge.
    Returns (None, False) when nothing was charged or everything was already given back.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError("amount must be a positive integer of minor units")
    if not refund_key:
        raise ValueError("refund_key is required")
    refund_key = refund_key[:255]
    with transaction.atomic():
        reservation = (
            SpendEntry.objects.select_for_update().filter(kind=SpendKind.RESERVE, flow_reference=flow_reference).first()
        )
        existing = SpendEntry.objects.filter(kind=SpendKind.REFUND, refund_key=refund_key).first()
        if existing is not None:
            return existing, False
        if reservation is None:
            return None, False
        commits = list(
            SpendEntry.objects.filter(
                kind=SpendKind.COMMIT, flow_reference__in=[flow_reference, f"{flow_reference}{LATE_COMMIT_SUFFIX}"]
            ).order_by("created_at", "id")
        )
        charged = sum(commit.amount for commit in commits)
        refunded = sum(
            SpendEntry.objects.filter(kind=SpendKind.REFUND, reservation__in=commits).values_list("amount", flat=True)
        )
        credit = min(amount, charged - refunded)
        if credit <= 0:
            return None, False
        commit = commits[0]
        entry = SpendEntry.objects.create(
            user_id=commit.user_id,
            kind=SpendKind.REFUND,
            amount=credit,
            currency=commit.currency,
            flow_reference=flow_reference,
            chat_session_reference=commit.chat_session_reference,
            reservation=commit,
            created_at=timezone.now(),
            reason=reason[:100],
            refund_key=refund_key,
        )
        _audit(
            "spend.refunded",
            user_id=commit.user_id,
            actor_type=actor_type,
            actor_id=actor_id,
            target=entry,
            data={
                "amount": credit,
                "reported": amount,
                "currency": commit.currency,
                "flow_reference": flow_reference,
                "refund_key": refund_key,
                "reason": reason[:100],
            },
        )
    logger.info("spend refunded", extra={"customer_id": entry.user_id, "flow_reference": flow_reference})
    return entry, True


# -- payment methods -----------------------------------------------------------------------------


def payment_method_add(
    *,
    user_id: int,
    merchant_id: str,
    vault_reference: str,
    nickname: str = "",
    make_default: bool = False,
    origin: Origin | None = None,
) -> PaymentMethod:
    """Save one of the customer's cards at the merchant, by the merchant's vault reference.

    The merchant is asked (over HTTP, its vault's list of this customer's cards, found through our
    MerchantAccount) whether the reference is theirs; brand, last four digits and expiry come from its
    answer, never from the request, so nobody can save another customer's card or dress a card up as
    another. A reference the merchant does not confirm raises PaymentMethodNotAtMerchant (audited,
    nothing stored). Adding a saved reference again returns the saved card (idempotent, no call).
    """
    vault_reference = (vault_reference or "").strip()
    nickname = (nickname or "").strip()
    try:
        # Checked before the call: a card number typed in the wrong field never leaves our side.
        vault_reference_validator(vault_reference)
        no_card_number_validator(vault_reference)
    except ValidationError as error:
        raise InvalidPaymentMethod(
            f"Vault reference: {error.messages[0]}", fields={"vault_reference": error.messages}
        ) from None
    try:
        no_card_number_validator(nickname)
    except ValidationError as error:
        raise InvalidPaymentMethod(f"Nickname: {error.messages[0]}", fields={"nickname": error.messages}) from None
    if len(nickname) > 40:
        raise InvalidPaymentMethod("Nickname: at most 40 characters.", fields={"nickname": ["Too long."]})
    existing = PaymentMethod.objects.filter(
        user_id=user_id, merchant_id=merchant_id, vault_reference=vault_reference, removed_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    card = _merchant_card(user_id=user_id, merchant_id=merchant_id, vault_reference=vault_reference, origin=origin)
    return payment_method_store(
        user_id=user_id,
        merchant_id=merchant_id,
        card=card,
        nickname=nickname,
        make_default=make_default,
        actor_type=ActorType.CUSTOMER,
        origin=origin,
    )


def _card_refused(*, user_id: int, merchant_id: str, vault_reference: str, reason: str, origin: Origin | None) -> None:
    with transaction.atomic():
        _audit(
            "consent.payment_method_refused",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            data={"merchant_id": merchant_id, "vault_reference": vault_reference, "reason": reason},
            origin=origin,
            outcome=Outcome.DENIED,
        )


def _merchant_card(*, user_id: int, merchant_id: str, vault_reference: str, origin: Origin | None) -> StoredCard:
    """The merchant's description of its card `vault_reference`, if the merchant says it is this customer's."""
    from catalog_adapters.errors import MerchantClientError, MerchantError, UnknownMerchant
    from catalog_adapters.registry import get_merchant

    account = merchant_account_for_customer(user_id=user_id, merchant_id=merchant_id)
    if account is None:
        _card_refused(
            user_id=user_id,
            merchant_id=merchant_id,
            vault_reference=vault_reference,
            reason="no_account",
            origin=origin,
        )
        raise MerchantAccountMissing(
            f"Your account is not linked to the shop {merchant_id!r} yet, so we cannot check that the card is yours. "
            "Nothing was saved."
        )
    try:
        cards = get_merchant(merchant_id).vault.customer_cards(customer_id=account.customer_ref)
    except UnknownMerchant:
        raise InvalidPaymentMethod(f"There is no shop called {merchant_id!r}.") from None
    except MerchantClientError as error:
        if error.status != 404:
            raise MerchantVaultUnavailable(
                "The shop could not confirm the card just now. Nothing was saved; please try again in a minute."
            ) from error
        cards = []  # the shop does not know the customer: no card of theirs to confirm
    except MerchantError as error:
        raise MerchantVaultUnavailable(
            "The shop could not confirm the card just now. Nothing was saved; please try again in a minute."
        ) from error
    for card in cards:
        if card.vault_reference == vault_reference:
            return card
    _card_refused(
        user_id=user_id, merchant_id=merchant_id, vault_reference=vault_reference, reason="not_yours", origin=origin
    )
    raise PaymentMethodNotAtMerchant(
        "The shop does not know this card as one of yours. Add the card at the shop first, then save it here with "
        "the reference the shop gives it. Nothing was saved."
    )


def payment_method_store(
    *,
    user_id: int,
    merchant_id: str,
    card: StoredCard,
    nickname: str = "",
    make_default: bool = False,
    actor_type: ActorType | str = ActorType.SYSTEM,
    origin: Origin | None = None,
) -> PaymentMethod:
    """Save a card as the merchant describes it: from payment_method_add's answer, or from seed data that
    mirrors the merchant's vault (consent.demo). Never called with details a request sent.

    The first card becomes the default. Saving a saved reference again returns it (idempotent).
    """
    brand = card.brand.lower() if card.brand.lower() in CardBrand.values else CardBrand.OTHER
    method = PaymentMethod(
        user_id=user_id,
        merchant_id=merchant_id,
        vault_reference=card.vault_reference,
        brand=brand,
        last4=card.last4,
        exp_month=card.exp_month,
        exp_year=card.exp_year,
        nickname=nickname,
        added_by=str(actor_type),
    )
    try:
        method.full_clean(exclude=["user", "is_default"])
    except ValidationError as error:
        raise InvalidPaymentMethod(_first_message(error), fields=error.message_dict) from None
    with transaction.atomic():
        _lock_customer(user_id)
        existing = PaymentMethod.objects.filter(
            user_id=user_id, merchant_id=merchant_id, vault_reference=card.vault_reference, removed_at__isnull=True
        ).first()
        if existing is not None:
            return existing
        default_for_new(PaymentMethod, user_id=user_id, row=method, make_default=make_default)
        method.save(force_insert=True)
        _audit(
            "consent.payment_method_added",
            user_id=user_id,
            actor_type=actor_type,
            actor_id=user_id if actor_type == ActorType.CUSTOMER else None,
            target=method,
            data={"card": method.masked, "merchant_id": merchant_id, "default": method.is_default},
            origin=origin,
        )
        if actor_type != ActorType.SYSTEM:
            _security_notice(
                user_id=user_id,
                kind=SecurityNoticeKind.CARD_ADDED,
                subject="A new card was added to your account",
                what=f"A new card ending {method.last4} ({method.get_brand_display()}) was added to your account",
                undo="remove the card on your settings page",
            )
    logger.info("payment method added", extra={"customer_id": user_id, "payment_method_id": method.pk})
    return method


def payment_method_set_default(*, user_id: int, payment_method_id: int, origin: Origin | None = None) -> PaymentMethod:
    with transaction.atomic():
        _lock_customer(user_id)
        method = PaymentMethod.objects.select_for_update().get(
            pk=payment_method_id, user_id=user_id, removed_at__isnull=True
        )
        if not default_move_to(PaymentMethod, user_id=user_id, row=method):
            return method
        _audit(
            "consent.payment_method_default_changed",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            target=method,
            data={"card": method.masked},
            origin=origin,
        )
    return method


def payment_method_remove(*, user_id: int, payment_method_id: int, origin: Origin | None = None) -> PaymentMethod:
    """Stop using a saved card. If it was the default, the oldest remaining card becomes the default."""
    with transaction.atomic():
        _lock_customer(user_id)
        method = PaymentMethod.objects.select_for_update().get(
            pk=payment_method_id, user_id=user_id, removed_at__isnull=True
        )
        default_remove(PaymentMethod, user_id=user_id, row=method, removed_at=timezone.now())
        _audit(
            "consent.payment_method_removed",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            target=method,
            data={"card": method.masked},
            origin=origin,
        )
    logger.info("payment method removed", extra={"customer_id": user_id, "payment_method_id": method.pk})
    return method


# -- addresses -----------------------------------------------------------------------------------


def address_add(
    *,
    user_id: int,
    label: str,
    recipient: str,
    line1: str,
    city: str,
    postal_code: str,
    country: str,
    line2: str = "",
    region: str = "",
    make_default: bool = False,
    actor_type: ActorType | str = ActorType.CUSTOMER,
    origin: Origin | None = None,
) -> Address:
    """Save a shipping address. The first one becomes the default."""
    address = Address(
        user_id=user_id,
        label=label.strip(),
        recipient=recipient.strip(),
        line1=line1.strip(),
        line2=line2.strip(),
        city=city.strip(),
        region=region.strip(),
        postal_code=postal_code.strip(),
        country=country.strip().upper(),
        added_by=str(actor_type),
    )
    try:
        address.full_clean(exclude=["user", "is_default"])
    except ValidationError as error:
        raise InvalidAddress(_first_message(error), fields=error.message_dict) from None
    with transaction.atomic():
        _lock_customer(user_id)
        default_for_new(Address, user_id=user_id, row=address, make_default=make_default)
        address.save(force_insert=True)
        _audit(
            "consent.address_added",
            user_id=user_id,
            actor_type=actor_type,
            actor_id=user_id if actor_type == ActorType.CUSTOMER else None,
            target=address,
            data={"label": address.label, "city": address.city, "country": address.country},
            origin=origin,
        )
        if actor_type != ActorType.SYSTEM:
            _security_notice(
                user_id=user_id,
                kind=SecurityNoticeKind.ADDRESS_ADDED,
                subject="A new shipping address was added to your account",
                what=(
                    f"A new shipping address “{address.label}” ({address.city}, {address.country}) was added to "
                    "your account"
                ),
                undo="remove the address on your settings page",
            )
    return address


def address_set_default(*, user_id: int, address_id: int, origin: Origin | None = None) -> Address:
    with transaction.atomic():
        _lock_customer(user_id)
        address = Address.objects.select_for_update().get(pk=address_id, user_id=user_id, removed_at__isnull=True)
        if not default_move_to(Address, user_id=user_id, row=address):
            return address
        _audit(
            "consent.address_default_changed",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            target=address,
            data={"label": address.label},
            origin=origin,
        )
    return address


def address_remove(*, user_id: int, address_id: int, origin: Origin | None = None) -> Address:
    with transaction.atomic():
        _lock_customer(user_id)
        address = Address.objects.select_for_update().get(pk=address_id, user_id=user_id, removed_at__isnull=True)
        default_remove(Address, user_id=user_id, row=address, removed_at=timezone.now())
        _audit(
            "consent.address_removed",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            target=address,
            data={"label": address.label},
            origin=origin,
        )
    return address


# -- merchant accounts ---------------------------------------------------------------------------


def merchant_account_link(*, user_id: int, merchant_id: str, customer_ref: str, email: str) -> MerchantAccount:
    """Record who the customer is at a merchant. Idempotent; a changed e-mail is updated."""
    with transaction.atomic():
        account, created = MerchantAccount.objects.select_for_update().get_or_create(
            user_id=user_id, merchant_id=merchant_id, defaults={"customer_ref": customer_ref, "email": email}
        )
        if not created and (account.customer_ref != customer_ref or account.email != email):
            account.customer_ref = customer_ref
            account.email = email
            account.save(update_fields=["customer_ref", "email"])
            created = True
        if created:
            _audit(
                "consent.merchant_account_linked",
                user_id=user_id,
                actor_type=ActorType.SYSTEM,
                actor_id=None,
                target=account,
                data={"merchant_id": merchant_id, "customer_ref": customer_ref},
            )
    return account


# -- security notices (e-mail to the customer) ---------------------------------------------------


def _security_notice(*, user_id: int, kind: SecurityNoticeKind, subject: str, what: str, undo: str) -> SecurityNotice:
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


# -- step-up -------------------------------------------------------------------------------------


def stepup_enrol_begin(
    *, user_id: int, current_code: str = "", password: str = "", origin: Origin | None = None
) -> TOTPDevice:
    """Start TOTP enrolment: a new unconfirmed device (replacing an earlier unconfirmed one).

    With a confirmed authenticator already set up, only its owner may start replacing it: the request
    must carry a code from the current app or the account password (someone holding a stolen session
    could otherwise put their own app in its place). Missing proof raises StepUpProofRequired, wrong
    proof StepUpProofInvalid; both are audited and change nothing. Wrong passwords count against the
    current device's throttle, like wrong codes. Whether proof was given is recorded with the new
    device (StepUpEnrolment): stepup_enrol_confirm lets only a proven one replace a confirmed app.
    """
    current = stepup_device(user_id=user_id, confirmed=True)
    if current is not None:
        _prove_authenticator_owner(user_id=user_id, device=current, code=current_code, password=password, origin=origin)
    with transaction.atomic():
        # Begin and confirm both hold the customer's row: an app confirmed between the check above and
        # here (the customer's own, in another tab) is seen now, and this unproven begin is refused.
        get_user_model().objects.select_for_update().get(pk=user_id)
        now_current = stepup_device(user_id=user_id, confirmed=True)
        changed = now_current is not None and (current is None or now_current.pk != current.pk)
        if changed:
            refused = now_current
        else:
            TOTPDevice.objects.filter(user_id=user_id, name=STEPUP_DEVICE_NAME, confirmed=False).delete()
            device = TOTPDevice.objects.create(user_id=user_id, name=STEPUP_DEVICE_NAME, confirmed=False)
            StepUpEnrolment.objects.create(device=device, begun_with_proof=current is not None)
            _audit(
                "consent.stepup_enrolment_started",
                user_id=user_id,
                actor_type=ActorType.CUSTOMER,
                actor_id=user_id,
                target=device,
                data={"replacing": current is not None},
                origin=origin,
            )
    if changed:
        _replacement_refused(user_id=user_id, device=refused, reason="no_proof", origin=origin)
        raise StepUpProofRequired(
            "An authenticator app was just set up for your account. To replace it, enter a code from that app "
            "or your account password."
        )
    return device


def _replacement_refused(*, user_id: int, device: TOTPDevice, reason: str, origin: Origin | None) -> None:
    with transaction.atomic():
        _audit(
            "consent.stepup_replacement_refused",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            target=device,
            data={"reason": reason},
            outcome=Outcome.DENIED,
            origin=origin,
        )


def _prove_authenticator_owner(
    *, user_id: int, device: TOTPDevice, code: str, password: str, origin: Origin | None
) -> None:
    if (code or "").strip():
        try:
            _check_code(device, code)
        except StepUpInvalidCode as error:
            _replacement_refused(user_id=user_id, device=device, reason="wrong_code", origin=origin)
            raise StepUpProofInvalid(
                f"{error.message} Use the app you set up before (or your password) to replace it."
            ) from None
        except StepUpThrottled:
            _replacement_refused(user_id=user_id, device=device, reason="throttled", origin=origin)
            raise
        return
    if password:
        allowed, info = device.verify_is_allowed()
        if not allowed:
            _replacement_refused(user_id=user_id, device=device, reason="throttled", origin=origin)
            locked_until = (info or {}).get("locked_until")
            seconds = max(int((locked_until - timezone.now()).total_seconds()) + 1, 1) if locked_until else 60
            raise StepUpThrottled(
                f"Too many wrong attempts. Wait {seconds} second{'s' if seconds != 1 else ''} and try again.",
                retry_after=seconds,
            )
        user = get_user_model().objects.get(pk=user_id)
        if not user.check_password(password):
            device.throttle_increment()
            _replacement_refused(user_id=user_id, device=device, reason="wrong_password", origin=origin)
            raise StepUpProofInvalid("That password is not right. Nothing was changed.")
        device.throttle_reset()
        return
    _replacement_refused(user_id=user_id, device=device, reason="no_proof", origin=origin)
    raise StepUpProofRequired(
        "You already have an authenticator app set up. To replace it, enter a code from that app or your "
        "account password."
    )


def _check_code(device: TOTPDevice, code: str) -> None:
    code = (code or "").strip().replace(" ", "")
    allowed, info = device.verify_is_allowed()
    if not allowed:
        # django-otp doubles the wait after each wrong code, which makes guessing 10^6 codes hopeless.
        locked_until = (info or {}).get("locked_until")
        seconds = max(int((locked_until - timezone.now()).total_seconds()) + 1, 1) if locked_until else 60
        raise StepUpThrottled(
            f"Too many wrong codes. Wait {seconds} second{'s' if seconds != 1 else ''} and try again.",
            retry_after=seconds,
        )
    if not code.isdigit() or len(code) != device.digits:
        raise StepUpInvalidCode(f"Enter the {device.digits}-digit code your authenticator app shows.")
    # verify_token saves the device (throttle counter, last used step), so it runs outside any
    # transaction that the failure would roll back.
    if not device.verify_token(code):
        raise StepUpInvalidCode("That code is not right (or was already used). Try the next one your app shows.")


def stepup_enrol_confirm(*, user_id: int, code: str, origin: Origin | None = None) -> TOTPDevice:
    """Finish enrolment with a code from the app.

    This is not a step-up verification: whoever holds the session can enrol an app of their own (when
    none is set up yet), so a freshly enrolled app vouches for nothing until a later code from it is
    checked by stepup_verify. The customer is e-mailed that an authenticator was set up.

    A device begun without proof (no app was set up then) is refused (StepUpProofRequired, audited)
    when an app has been confirmed since: in a race with the customer's own enrolment, an app begun
    by someone else holding the session must not later replace hers.
    """
    device = stepup_device(user_id=user_id, confirmed=False)
    if device is None:
        raise StepUpNotEnrolled("Start setting up your authenticator app first.")
    try:
        _check_code(device, code)
    except (StepUpInvalidCode, StepUpThrottled):
        with transaction.atomic():
            _audit(
                "consent.stepup_enrolment_failed",
                user_id=user_id,
                actor_type=ActorType.CUSTOMER,
                actor_id=user_id,
                target=device,
                outcome=Outcome.DENIED,
                origin=origin,
            )
        raise
    with transaction.atomic():
        # Holding the customer's row (as stepup_enrol_begin does), re-read what is set up now.
        get_user_model().objects.select_for_update().get(pk=user_id)
        device = TOTPDevice.objects.filter(pk=device.pk, confirmed=False).first()
        if device is None:
            raise StepUpNotEnrolled("Start setting up your authenticator app again: this one was replaced.")
        others_confirmed = (
            TOTPDevice.objects.filter(user_id=user_id, name__startswith=STEPUP_DEVICE_NAME, confirmed=True)
            .exclude(pk=device.pk)
            .exists()
        )
        proven = StepUpEnrolment.objects.filter(device=device, begun_with_proof=True).exists()
        if others_confirmed and not proven:
            # Begun with no app set up (so with no proof), and an app was confirmed since: this one may
            # not take its place. Whoever began it must start again, with that app's code or the password.
            # (A pending device deleted meanwhile and written back by django-otp's plain save() of its
            # throttle state has lost its StepUpEnrolment, so it counts as unproven too.)
            refused = device
        else:
            refused = None
            # One step-up device per customer: the newest replaces the old, and any other pending one goes
            # (a pending device started before this one was confirmed must not replace it later without proof).
            replaced = (
                TOTPDevice.objects.filter(user_id=user_id, name__startswith=STEPUP_DEVICE_NAME)
                .exclude(pk=device.pk)
                .delete()[0]
            )
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            _audit(
                "consent.stepup_enrolled",
                user_id=user_id,
                actor_type=ActorType.CUSTOMER,
                actor_id=user_id,
                target=device,
                data={"replaced": bool(replaced)},
                origin=origin,
            )
            _security_notice(
                user_id=user_id,
                kind=SecurityNoticeKind.AUTHENTICATOR_ENROLLED,
                subject="An authenticator app was set up for your account",
                what="An authenticator app was set up for the extra verification of your orders",
                undo="set up your own app in its place there (your password lets you replace it)",
            )
    if refused is not None:
        _replacement_refused(user_id=user_id, device=refused, reason="no_proof", origin=origin)
        raise StepUpProofRequired(
            "An authenticator app is already set up for your account. To replace it, start again and enter a "
            "code from that app or your account password."
        )
    return device


def stepup_verify(*, user_id: int, code: str, origin: Origin | None = None) -> StepUpVerification:
    """Check a TOTP code and record the verification time that flows read (stepup_verified_within)."""
    device = stepup_device(user_id=user_id, confirmed=True)
    if device is None:
        raise StepUpNotEnrolled("You have not set up an authenticator app yet. Set it up on your settings page.")
    try:
        _check_code(device, code)
    except (StepUpInvalidCode, StepUpThrottled):
        with transaction.atomic():
            _audit(
                "consent.stepup_failed",
                user_id=user_id,
                actor_type=ActorType.CUSTOMER,
                actor_id=user_id,
                target=device,
                outcome=Outcome.DENIED,
                origin=origin,
            )
        raise
    with transaction.atomic():
        verification = StepUpVerification.objects.create(
            user_id=user_id, device=device, verified_at=timezone.now(), channel=origin.channel if origin else ""
        )
        _audit(
            "consent.stepup_verified",
            user_id=user_id,
            actor_type=ActorType.CUSTOMER,
            actor_id=user_id,
            target=device,
            origin=origin,
        )
    return verification


def _first_message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        for field, messages in error.message_dict.items():
            if messages:
                label = field.replace("_", " ")
                return f"{label.capitalize()}: {messages[0]}"
    return error.messages[0] if error.messages else "That is not valid."
