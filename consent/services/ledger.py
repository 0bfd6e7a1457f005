"""The spend ledger: reserve against every cap, commit, release, refund. Append rows, derive balances.

Lock order: the caller's own rows (an order flow) first, then the customer's ConsentProfile row (a
reservation) or the reservation row (a settlement). audit_record takes no lock (one INSERT; the chain is
sealed later), so audit events may come before or after these services in a caller's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.models import ActorType, Outcome
from config.statements import hand_written_sql, models_select, postgresql_or_orm
from consent.exceptions import (
    SpendCapExceeded,
    SpendCommitExceedsReservation,
    SpendCurrencyMismatch,
    SpendReservationConflict,
    SpendReservationNotFound,
    SpendReservationSettled,
)
from consent.models import ConsentProfile, SpendEntry, SpendKind
from consent.selectors import (
    spend_caps_effective,
    spend_caps_verify,
    spend_expired_reservations,
    spend_reservations_held,
    spend_totals,
)
from consent.services.profile import consent_audit_record, consent_profile_ensure

logger = logging.getLogger(__name__)

_SETTLED_WORDS = {SpendKind.COMMIT: "committed", SpendKind.RELEASE: "released"}


def _lock_profile(user_id: int) -> ConsentProfile:
    """The customer's profile, locked (one query; created first on the customer's first use)."""

    def one_statement() -> ConsentProfile | None:
        # Hand-written on PostgreSQL: the ORM spent more Python building this locking read than running it costs.
        found = models_select(ConsentProfile, where="t.user_id = %s", params=[user_id], tail="FOR UPDATE")
        return found[0] if found else None

    def orm() -> ConsentProfile | None:
        return ConsentProfile.objects.select_for_update().filter(user_id=user_id).first()

    profile = postgresql_or_orm(postgresql=one_statement, orm=orm)
    if profile is None:
        consent_profile_ensure(user_id=user_id)
        profile = ConsentProfile.objects.select_for_update().get(user_id=user_id)
    return profile


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
        consent_audit_record(
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
    consent_audit_record(
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
    return _inserted(entry, row)


def _insert_unless_settled(entry: SpendEntry) -> bool:
    """Insert the settlement `entry` (a commit or a release) of its reservation unless a settlement of that reservation
    exists already: `INSERT … SELECT … WHERE NOT EXISTS … RETURNING id`. True, with `entry.pk` set, when it went in.

    The caller holds the reservation's lock, and this is a statement of its own after that lock was granted, so in
    READ COMMITTED it sees a settlement committed while it waited (what `_settle_locked`'s read of the settlement
    does, in the same round trip as the write). A unique constraint it breaks all the same raises, as `create` does.
    """
    options = SpendEntry._meta
    quote = connection.ops.quote_name
    table = quote(options.db_table)
    fields = [field for field in options.concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(getattr(entry, field.attname), connection) for field in fields]
    # Identifiers only are formatted in; every value is a parameter.
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(field.column) for field in fields)}) "  # noqa: S608
        f"SELECT {', '.join(['%s'] * len(fields))} "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table} s WHERE s.reservation_id = %s) RETURNING {quote(options.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, entry.reservation_id])
        row = cursor.fetchone()
    return _inserted(entry, row)


def _inserted(entry: SpendEntry, row: tuple | None) -> bool:
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
    own: in READ COMMITTED it sees a settlement committed while we waited for the lock).

    On PostgreSQL the usual case (nothing settled it yet) is written by the statement that reads the settlement
    (`_insert_unless_settled`): two statements after the lock instead of three, and none of them built by the ORM.
    The sweeper's release (`unless_held`, a question asked between the read and the write) and an amount that
    cannot be committed take the read first, as everywhere else."""
    reservation = _reservation_lock(flow_reference)
    if reservation is None:
        if kind == SpendKind.RELEASE:
            return None  # a compensation for a reservation that never happened has nothing to undo
        raise SpendReservationNotFound(
            f"No spend reservation for flow {flow_reference!r}.", flow_reference=flow_reference
        )
    if not unless_held and hand_written_sql():
        try:
            settled_amount = _commit_amount(reservation, amount) if kind == SpendKind.COMMIT else reservation.amount
        except SpendCommitExceedsReservation:
            pass  # refused below, unless a commit already stands (then that commit is the answer)
        else:
            entry = _settlement_entry(reservation, kind=kind, amount=settled_amount, reason=reason)
            if _insert_unless_settled(entry):
                return _settlement_recorded(entry, reservation=reservation, actor_type=actor_type)
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
    entry = _settlement_entry(reservation, kind=kind, amount=amount, reason=reason)
    entry.save(force_insert=True)
    return _settlement_recorded(entry, reservation=reservation, actor_type=actor_type)


def _reservation_lock(flow_reference: str) -> SpendEntry | None:
    """The flow's reservation, locked (None without one): hand-written on PostgreSQL, the ORM elsewhere."""

    def one_statement() -> SpendEntry | None:
        found = models_select(
            SpendEntry,
            where="t.kind = %s AND t.flow_reference = %s",
            params=[SpendKind.RESERVE.value, flow_reference],
            tail="ORDER BY t.created_at, t.id LIMIT 1 FOR UPDATE",
        )
        return found[0] if found else None

    def orm() -> SpendEntry | None:
        return (
            SpendEntry.objects.select_for_update().filter(kind=SpendKind.RESERVE, flow_reference=flow_reference).first()
        )

    return postgresql_or_orm(postgresql=one_statement, orm=orm)


def _settlement_entry(reservation: SpendEntry, *, kind: SpendKind, amount: int, reason: str) -> SpendEntry:
    """The commit or release row of `reservation`, not saved yet."""
    return SpendEntry(
        user_id=reservation.user_id,
        kind=kind,
        amount=amount,
        currency=reservation.currency,
        flow_reference=reservation.flow_reference,
        chat_session_reference=reservation.chat_session_reference,
        reservation=reservation,
        created_at=timezone.now(),
        reason=reason[:100],
    )


def _settlement_recorded(entry: SpendEntry, *, reservation: SpendEntry, actor_type: ActorType | str) -> SpendEntry:
    """A settlement just written: its audit event (in the same transaction) and its log line."""
    consent_audit_record(
        f"spend.{'committed' if entry.kind == SpendKind.COMMIT else 'released'}",
        user_id=reservation.user_id,
        actor_type=actor_type,
        actor_id=None,
        target=entry,
        data={
            "amount": entry.amount,
            "currency": reservation.currency,
            "flow_reference": reservation.flow_reference,
            "reason": entry.reason,
        },
    )
    logger.info(
        "spend %s", entry.kind, extra={"customer_id": entry.user_id, "flow_reference": reservation.flow_reference}
    )
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
    consent_audit_record(
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
        consent_audit_record(
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
