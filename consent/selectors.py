"""Consent grants, spend caps, vault-only payment methods, step-up.

Reads, as querysets and plain values for views, tasks and other apps. Every read of customer data takes
the customer's id and filters by it: another customer's object is simply not found (a 404 upstream).
The customer's activity log (their audit events in words) is `consent.activity`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import ActorType
from config.statements import models_select, postgresql_or_orm, row_model, select_list
from consent import hooks
from consent.exceptions import ConsentDenied, ConsentExpired, ConsentMissing, ConsentRevoked, SpendCapExceeded
from consent.formatting import format_money
from consent.models import (
    Address,
    CapKind,
    ConsentGrant,
    ConsentProfile,
    GrantStatus,
    MerchantAccount,
    PaymentMethod,
    Scope,
    SpendEntry,
    SpendKind,
    StepUpVerification,
)
from consent.policies import active_policy

# -- grants --------------------------------------------------------------------------------------


def grants_for_customer(*, user_id: int) -> QuerySet[ConsentGrant]:
    """Every grant of the customer, current ones first, then history newest first."""
    return ConsentGrant.objects.filter(user_id=user_id).order_by("status", "scope", "-granted_at")


def grant_get(*, user_id: int, grant_id: int) -> ConsentGrant:
    return get_object_or_404(ConsentGrant, pk=grant_id, user_id=user_id)


def grant_is_expired(grant: ConsentGrant, *, now: datetime | None = None) -> bool:
    return grant.expires_at is not None and grant.expires_at <= (now or timezone.now())


def grant_effective_status(grant: ConsentGrant, *, now: datetime | None = None) -> str:
    """active, expired, revoked or superseded, as a person would describe the grant now."""
    if grant.status == GrantStatus.ACTIVE and grant_is_expired(grant, now=now):
        return "expired"
    return grant.status


_SCOPE_WORDS = {
    Scope.PLACE_ORDERS: "place orders for you",
    Scope.USE_SAVED_PAYMENT: "pay with your saved cards",
    Scope.USE_SAVED_ADDRESS: "ship to your saved addresses",
}


def consent_require(*, user_id: int, scopes: Iterable[str] = (Scope.PLACE_ORDERS,)) -> list[ConsentGrant]:
    """The customer's live grants for `scopes`, or the first denial as a named exception.

    This is the flows' consent check: it reads the database every time (one query for all the scopes),
    so a revocation committed a moment ago already denies. Raises ConsentRevoked, ConsentExpired or
    ConsentMissing (all ConsentDenied, with `.reason` and `.scope`) and a message the customer can be shown.
    """
    scopes = [Scope(scope) for scope in scopes]
    return _live_grants(_latest_grants(user_id=user_id, scopes=scopes), scopes=scopes)


def _latest_grants(*, user_id: int, scopes: list[Scope], with_profile: bool = False) -> dict[str, ConsentGrant]:
    """The newest grant per scope, in one query (with the customer's profile joined in, when asked).

    Without the profile: hand-written on PostgreSQL (`DISTINCT ON` the scope, so only those rows come back; the ORM
    spent about 2 ms of Python building this read, which every placement makes three times), the ORM elsewhere."""

    def one_statement() -> dict[str, ConsentGrant]:
        quote = connection.ops.quote_name
        marks = ", ".join(["%s"] * len(scopes))
        # Only our own table and column names are interpolated; values are parameters.
        sql = (
            f"SELECT DISTINCT ON (g.scope) {select_list(ConsentGrant, 'g')} "  # noqa: S608
            f"FROM {quote(ConsentGrant._meta.db_table)} g WHERE g.user_id = %s AND g.scope IN ({marks}) "
            "ORDER BY g.scope, g.granted_at DESC, g.id DESC"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [user_id, *scopes])
            rows = cursor.fetchall()
        return {grant.scope: grant for grant in (row_model(ConsentGrant, row) for row in rows)}

    def orm() -> dict[str, ConsentGrant]:
        grants = ConsentGrant.objects.filter(user_id=user_id, scope__in=scopes).order_by("-granted_at", "-id")
        if with_profile:
            grants = grants.select_related("user__consent_profile")
        latest: dict[str, ConsentGrant] = {}
        for grant in grants:
            latest.setdefault(grant.scope, grant)
        return latest

    return orm() if with_profile else postgresql_or_orm(postgresql=one_statement, orm=orm)


def _latest_grants_with_profile(
    *, user_id: int, scopes: list[Scope]
) -> tuple[dict[str, ConsentGrant], ConsentProfile | None]:
    """The newest grant per scope and the customer's consent profile (None without one, or without grants), in one
    query: hand-written on PostgreSQL (a turn's preview asks it; compiling the ORM's three-table join cost several
    times running it), the ORM's select_related elsewhere."""

    def one_statement() -> tuple[dict[str, ConsentGrant], ConsentProfile | None]:
        quote = connection.ops.quote_name
        grants_table, profiles_table = quote(ConsentGrant._meta.db_table), quote(ConsentProfile._meta.db_table)
        marks = ", ".join(["%s"] * len(scopes))
        # Only our own table and column names are interpolated; values are parameters.
        sql = (
            f"SELECT {select_list(ConsentGrant, 'g')}, {select_list(ConsentProfile, 'p')} "  # noqa: S608
            f"FROM {grants_table} g LEFT JOIN {profiles_table} p ON p.user_id = g.user_id "
            f"WHERE g.user_id = %s AND g.scope IN ({marks}) ORDER BY g.granted_at DESC, g.id DESC"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [user_id, *scopes])
            rows = cursor.fetchall()
        width = len(ConsentGrant._meta.concrete_fields)
        latest: dict[str, ConsentGrant] = {}
        for row in rows:
            grant = row_model(ConsentGrant, row[:width])
            latest.setdefault(grant.scope, grant)
        profile = row_model(ConsentProfile, rows[0][width:]) if rows and rows[0][width] is not None else None
        return latest, profile

    def orm() -> tuple[dict[str, ConsentGrant], ConsentProfile | None]:
        latest = _latest_grants(user_id=user_id, scopes=scopes, with_profile=True)
        first = next(iter(latest.values()), None)
        return latest, getattr(first.user, "consent_profile", None) if first is not None else None

    return postgresql_or_orm(postgresql=one_statement, orm=orm)


def _live_grants(latest: dict[str, ConsentGrant], *, scopes: list[Scope]) -> list[ConsentGrant]:
    now = timezone.now()
    granted = []
    for scope in scopes:
        words = _SCOPE_WORDS[scope]
        grant = latest.get(scope)
        if grant is None or grant.status == GrantStatus.SUPERSEDED:
            raise ConsentMissing(f"You have not allowed the assistant to {words}.", scope=scope)
        if grant.status == GrantStatus.REVOKED:
            raise ConsentRevoked(
                f"You revoked the assistant's permission to {words}. Grant it again on your settings page to continue.",
                scope=scope,
                grant_id=grant.pk,
            )
        if grant_is_expired(grant, now=now):
            raise ConsentExpired(
                f"Your permission for the assistant to {words} expired on {grant.expires_at:%Y-%m-%d %H:%M} UTC.",
                scope=scope,
                grant_id=grant.pk,
            )
        granted.append(grant)
    return granted


def consent_allows(*, user_id: int, scopes: Iterable[str] = (Scope.PLACE_ORDERS,)) -> bool:
    try:
        consent_require(user_id=user_id, scopes=scopes)
    except ConsentDenied:
        return False
    return True


# -- caps and spend ------------------------------------------------------------------------------


def spend_cap_ceilings() -> dict[str, int]:
    """The most any customer may allow, per cap kind: the active policy's `[spend]` (consent.policies).
    The one place that reads them (the rollout phase's ceilings apply on top of these)."""
    ceilings = active_policy().spend.as_dict()
    return {kind: ceilings[kind] for kind in CapKind.values}


def auto_checkout_ceiling() -> int:
    """Orders under this may skip the confirm step, when the customer chooses so: the policy's eligibility."""
    return active_policy().eligibility.auto_checkout_ceiling


def stepup_window_minutes() -> int:
    """How long a step-up (TOTP) verification counts for a risky flow: the policy's eligibility."""
    return active_policy().eligibility.step_up_window_minutes


def profile_for_customer(*, user_id: int) -> ConsentProfile | None:
    return ConsentProfile.objects.filter(user_id=user_id).first()


def _chosen_caps(profile: ConsentProfile | None) -> dict[str, int | None]:
    if profile is None:
        return dict.fromkeys(CapKind.values)
    return {kind: getattr(profile, f"cap_{kind}") for kind in CapKind.values}


def spend_caps_effective(*, profile: ConsentProfile | None) -> dict[str, int]:
    """The cap that applies per kind: the customer's choice, never above the current ceiling."""
    ceilings = spend_cap_ceilings()
    chosen = _chosen_caps(profile)
    return {kind: ceilings[kind] if chosen[kind] is None else min(chosen[kind], ceilings[kind]) for kind in ceilings}


def auto_checkout_threshold(*, user_id: int) -> int:
    """Orders strictly under this may skip the confirm step; 0 means always ask."""
    return auto_checkout_threshold_of(profile=profile_for_customer(user_id=user_id))


def auto_checkout_threshold_of(*, profile: ConsentProfile | None) -> int:
    """`auto_checkout_threshold` of a profile already read (None: the customer has none, so always ask)."""
    if profile is None:
        return 0
    # A lower ceiling (or per-order cap) set later wins over an older, higher choice.
    caps = spend_caps_effective(profile=profile)
    return min(profile.auto_checkout_threshold, auto_checkout_ceiling(), caps[CapKind.PER_ORDER])


def _start_of_day(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _start_of_month(now: datetime) -> datetime:
    return _start_of_day(now).replace(day=1)


def spend_reservations_held(*, flow_references) -> frozenset[str]:
    """Which of these reservations a flow still holds (consent.hooks.spend_reservations_held): never expire those."""
    return hooks.spend_reservations_held.ask(frozenset(flow_references))


@dataclass(frozen=True)
class SpendUsage:
    currency: str
    used: dict[str, int]  # per_day, per_month, per_session (per_order has no history)
    caps: dict[str, int]
    ceilings: dict[str, int]
    chosen: dict[str, int | None]


@dataclass(frozen=True)
class SpendTotals:
    """Used spend per window (today, this month, this chat session) and this flow's reservation, if any."""

    used: dict[str, int]
    reservation_id: int | None = None


def spend_totals(
    *,
    user_id: int,
    currency: str,
    chat_session_reference: str = "",
    now: datetime,
    flow_reference: str = "",
) -> SpendTotals:
    """Every window's used spend in one aggregate query (conditional sums), net of refunds.

    Used spend = committed amounts - their refunds + reservations that are neither settled nor expired.
    A refund counts where its charge counted (the commit it points at), never in a later window. An
    expired reservation still counts while its flow holds it (placing: the charge may land any moment);
    otherwise a concurrent order could take the room and the charge would then exceed the cap. Those
    are rare, so they cost a second query (and the hook's) only when there are any.

    `spend_reserve` calls this under the customer's profile lock, in a statement of its own after the
    lock is granted: in READ COMMITTED that statement sees every reservation committed before it, which
    a sum taken in the locking statement itself would not. With `flow_reference`, the same query also
    finds the flow's reservation (the idempotent replay).
    """
    currency = currency.upper()
    day, month = _start_of_day(now), _start_of_month(now)
    windows = [CapKind.PER_DAY.value, CapKind.PER_MONTH.value]
    if chat_session_reference:
        windows.append(CapKind.PER_SESSION.value)
    totals = _spend_sums(
        user_id=user_id,
        currency=currency,
        chat_session_reference=chat_session_reference,
        flow_reference=flow_reference,
        now=now,
        day=day,
        month=month,
    )
    used = {kind: (totals[f"{kind}_reserved"] or 0) + (totals[f"{kind}_committed"] or 0) for kind in windows}
    if totals["overdue"]:
        relevant = Q(created_at__gte=month) | Q(chat_session_reference=chat_session_reference or None)
        overdue = list(
            SpendEntry.objects.filter(
                relevant, user_id=user_id, currency=currency, kind=SpendKind.RESERVE, expires_at__lte=now
            )
            .exclude(Exists(SpendEntry.objects.filter(reservation=OuterRef("pk"))))
            .values_list("flow_reference", "amount", "created_at", "chat_session_reference")
        )
        held = spend_reservations_held(flow_references={row[0] for row in overdue})
        for reference, amount, created_at, session in overdue:
            if reference not in held:
                continue
            if created_at >= day:
                used[CapKind.PER_DAY.value] += amount
            if created_at >= month:
                used[CapKind.PER_MONTH.value] += amount
            if chat_session_reference and session == chat_session_reference:
                used[CapKind.PER_SESSION.value] += amount
    for kind in windows:
        used[kind] = max(used[kind] - (totals[f"{kind}_refunded"] or 0), 0)
    used.setdefault(CapKind.PER_SESSION.value, 0)
    return SpendTotals(used=used, reservation_id=totals.get("reservation_id"))


def _spend_sums(
    *,
    user_id: int,
    currency: str,
    chat_session_reference: str,
    flow_reference: str,
    now: datetime,
    day: datetime,
    month: datetime,
) -> dict[str, int | None]:
    """The conditional sums of `spend_totals` as one hand-written statement.

    The ORM spelling of these ten filtered sums (each with its own NOT EXISTS) took ~11 ms of Python to
    compile per call, in every preview and every placement, for a query PostgreSQL runs in ~0.2 ms. The
    statement is plain SQL (CASE inside SUM), so it runs on every backend Django supports.

    Rows read: the customer's rows in `currency` from this month or this chat session (a refund is never
    older than its charge), plus the flow's reservation whatever its currency (the idempotent replay).
    """
    table = connection.ops.quote_name(SpendEntry._meta.db_table)
    # Only identifiers (the quoted table name) and fixed fragments are formatted in; every value is a parameter.
    settled = f"EXISTS (SELECT 1 FROM {table} s WHERE s.reservation_id = e.id)"  # noqa: S608
    unsettled = f"(e.kind = %s AND NOT {settled})"
    # (condition on the row, its parameters) per window; a refund's window is its charge's.
    windows: dict[str, tuple[str, list]] = {
        CapKind.PER_DAY.value: ("e.created_at >= %s", [day]),
        CapKind.PER_MONTH.value: ("e.created_at >= %s", [month]),
    }
    refund_windows: dict[str, tuple[str, list]] = {
        CapKind.PER_DAY.value: ("r.created_at >= %s", [day]),
        CapKind.PER_MONTH.value: ("r.created_at >= %s", [month]),
    }
    if chat_session_reference:
        windows[CapKind.PER_SESSION.value] = ("e.chat_session_reference = %s", [chat_session_reference])
        refund_windows[CapKind.PER_SESSION.value] = ("e.chat_session_reference = %s", [chat_session_reference])
    columns: list[str] = []
    params: list = []
    names: list[str] = []
    for kind, (window, window_params) in windows.items():
        reserved = f"e.currency = %s AND {unsettled} AND e.expires_at > %s AND {window}"
        columns.append(f"SUM(CASE WHEN {reserved} THEN e.amount END)")
        params += [currency, SpendKind.RESERVE.value, now, *window_params]
        columns.append(f"SUM(CASE WHEN e.currency = %s AND e.kind = %s AND {window} THEN e.amount END)")
        params += [currency, SpendKind.COMMIT.value, *window_params]
        refund_window, refund_params = refund_windows[kind]
        columns.append(f"SUM(CASE WHEN e.currency = %s AND e.kind = %s AND {refund_window} THEN e.amount END)")
        params += [currency, SpendKind.REFUND.value, *refund_params]
        names += [f"{kind}_reserved", f"{kind}_committed", f"{kind}_refunded"]
    columns.append(f"COUNT(CASE WHEN e.currency = %s AND {unsettled} AND e.expires_at <= %s THEN 1 END)")
    params += [currency, SpendKind.RESERVE.value, now]
    names.append("overdue")
    relevant = "e.currency = %s AND (e.created_at >= %s OR e.chat_session_reference = %s)"
    where_params: list = [currency, month, chat_session_reference or None]
    if flow_reference:
        columns.append("MAX(CASE WHEN e.kind = %s AND e.flow_reference = %s THEN e.id END)")
        params += [SpendKind.RESERVE.value, flow_reference]
        names.append("reservation_id")
        relevant = f"(({relevant}) OR (e.kind = %s AND e.flow_reference = %s))"
        where_params += [SpendKind.RESERVE.value, flow_reference]
    sql = (
        f"SELECT {', '.join(columns)} FROM {table} e LEFT JOIN {table} r ON r.id = e.reservation_id "  # noqa: S608
        f"WHERE e.user_id = %s AND {relevant}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, user_id, *where_params])
        row = cursor.fetchone()
    return {name: (None if value is None else int(value)) for name, value in zip(names, row, strict=True)}


def spend_used(
    *, user_id: int, chat_session_reference: str = "", currency: str | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Used spend per window: today, this month (calendar, TIME_ZONE) and this chat session, net of refunds."""
    return spend_totals(
        user_id=user_id,
        currency=currency or settings.CONSENT_CURRENCY,
        chat_session_reference=chat_session_reference,
        now=now or timezone.now(),
    ).used


CAP_WORDS = {
    CapKind.PER_ORDER: "per-order cap",
    CapKind.PER_DAY: "daily cap",
    CapKind.PER_MONTH: "monthly cap",
    CapKind.PER_SESSION: "per-chat-session cap",
}


def spend_caps_verify(
    *, caps: dict[str, int], used: dict[str, int], amount: int, currency: str, chat_session_reference: str = ""
) -> None:
    """Raise SpendCapExceeded (naming the cap, its amount and what is left) when `amount` would go over one."""
    used = {**used, CapKind.PER_ORDER.value: 0}
    for kind in (CapKind.PER_ORDER, CapKind.PER_DAY, CapKind.PER_MONTH, CapKind.PER_SESSION):
        if kind == CapKind.PER_SESSION and not chat_session_reference:
            continue
        if used[kind] + amount > caps[kind]:
            left = max(caps[kind] - used[kind], 0)
            # The refusal names the rules that made it (caps are the customer's choice under the policy's ceilings).
            policy = active_policy()
            detail = "" if kind == CapKind.PER_ORDER else f" {format_money(left, currency)} of it is left."
            raise SpendCapExceeded(
                f"This order of {format_money(amount, currency)} is over your {CAP_WORDS[kind]} of "
                f"{format_money(caps[kind], currency)}.{detail}",
                cap=kind.value,
                limit=caps[kind],
                used=used[kind],
                requested=amount,
                currency=currency,
                policy_version=policy.version,
            )


def spend_check(
    *,
    user_id: int,
    amount: int,
    currency: str,
    chat_session_reference: str = "",
    profile: ConsentProfile | None = None,
    now: datetime | None = None,
) -> None:
    """Raise SpendCapExceeded (naming the cap, its amount and what is left) when `amount` would go over one.

    A read: it reserves nothing (two queries: the profile, unless given, and the sums). `spend_reserve`
    checks again under the customer's lock; the agent runs this before offering a preview, so a customer
    is never asked to confirm an order that cannot be placed.
    """
    now = now or timezone.now()
    currency = currency.upper()
    profile = profile if profile is not None else profile_for_customer(user_id=user_id)
    totals = spend_totals(user_id=user_id, currency=currency, chat_session_reference=chat_session_reference, now=now)
    spend_caps_verify(
        caps=spend_caps_effective(profile=profile),
        used=totals.used,
        amount=amount,
        currency=currency,
        chat_session_reference=chat_session_reference,
    )


ORDER_SCOPES = (Scope.PLACE_ORDERS, Scope.USE_SAVED_PAYMENT, Scope.USE_SAVED_ADDRESS)


def order_placement_check(
    *, user_id: int, amount: int, currency: str, chat_session_reference: str = ""
) -> ConsentProfile | None:
    """Everything the customer's own settings say about placing this order now, checked without reserving:
    the grants an assistant order needs, then every spend cap. Raises ConsentDenied or SpendCapExceeded
    with a message that names what stands in the way. Two queries (the grants with the profile, the sums); returns the
    profile it read, for the caller's other questions (`auto_checkout_threshold(profile=...)`)."""
    latest, profile = _latest_grants_with_profile(user_id=user_id, scopes=list(ORDER_SCOPES))
    _live_grants(latest, scopes=list(ORDER_SCOPES))
    # The profile came with the grants (one query); a customer without one has the ceilings as caps.
    spend_check(
        user_id=user_id,
        amount=amount,
        currency=currency,
        chat_session_reference=chat_session_reference,
        profile=profile,
    )
    return profile


def spend_usage(*, user_id: int, chat_session_reference: str = "") -> SpendUsage:
    profile = profile_for_customer(user_id=user_id)
    return SpendUsage(
        currency=profile.currency if profile else settings.CONSENT_CURRENCY,
        used=spend_used(user_id=user_id, chat_session_reference=chat_session_reference),
        caps=spend_caps_effective(profile=profile),
        ceilings=spend_cap_ceilings(),
        chosen=_chosen_caps(profile),
    )


def spend_reservation_get(*, flow_reference: str) -> SpendEntry | None:
    return SpendEntry.objects.filter(kind=SpendKind.RESERVE, flow_reference=flow_reference).first()


def spend_reservation_settlement(*, reservation: SpendEntry) -> SpendEntry | None:
    return SpendEntry.objects.filter(reservation=reservation).first()


def spend_reservation_unsettled(*, flow_reference: str) -> SpendEntry | None:
    """The flow's reservation if nothing settled it yet (no commit, no release), in one query; else None.

    Hand-written on PostgreSQL (every placement asks it before paying; the ORM spent more Python building the
    `NOT EXISTS` than the database spends answering), the ORM elsewhere."""

    def one_statement() -> SpendEntry | None:
        table = connection.ops.quote_name(SpendEntry._meta.db_table)
        # Only our own table name is interpolated; values are parameters.
        settled = f"EXISTS (SELECT 1 FROM {table} s WHERE s.reservation_id = t.id)"  # noqa: S608
        found = models_select(
            SpendEntry,
            where=f"t.kind = %s AND t.flow_reference = %s AND NOT {settled}",
            params=[SpendKind.RESERVE.value, flow_reference],
            tail="ORDER BY t.created_at, t.id LIMIT 1",
        )
        return found[0] if found else None

    def orm() -> SpendEntry | None:
        return (
            SpendEntry.objects.filter(kind=SpendKind.RESERVE, flow_reference=flow_reference)
            .exclude(Exists(SpendEntry.objects.filter(reservation=OuterRef("pk"))))
            .first()
        )

    return postgresql_or_orm(postgresql=one_statement, orm=orm)


def spend_expired_reservations(*, now: datetime | None = None) -> QuerySet[SpendEntry]:
    """Unsettled reservations past their expiry, held by a flow or not (the sweeper asks under the lock)."""
    settled = SpendEntry.objects.filter(reservation=OuterRef("pk"))
    return (
        SpendEntry.objects.filter(kind=SpendKind.RESERVE, expires_at__lte=now or timezone.now())
        .exclude(Exists(settled))
        .order_by("expires_at")
    )


# -- payment methods, addresses, merchant accounts -----------------------------------------------


def payment_methods_for_customer(*, user_id: int) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(user_id=user_id, removed_at__isnull=True).order_by("-is_default", "created_at")


def payment_method_get(*, user_id: int, payment_method_id: int, removed: bool = False) -> PaymentMethod:
    """The customer's saved card (404 for anyone else's); with `removed`, one they removed too."""
    live = {} if removed else {"removed_at__isnull": True}
    return get_object_or_404(PaymentMethod, pk=payment_method_id, user_id=user_id, **live)


def payment_method_default(*, user_id: int) -> PaymentMethod | None:
    return payment_methods_for_customer(user_id=user_id).filter(is_default=True).first()


def addresses_for_customer(*, user_id: int) -> QuerySet[Address]:
    return Address.objects.filter(user_id=user_id, removed_at__isnull=True).order_by("-is_default", "created_at")


def address_get(*, user_id: int, address_id: int, removed: bool = False) -> Address:
    """The customer's saved address (404 for anyone else's); with `removed`, one they removed too."""
    live = {} if removed else {"removed_at__isnull": True}
    return get_object_or_404(Address, pk=address_id, user_id=user_id, **live)


def address_default(*, user_id: int) -> Address | None:
    return addresses_for_customer(user_id=user_id).filter(is_default=True).first()


def merchant_account_for_customer(*, user_id: int, merchant_id: str) -> MerchantAccount | None:
    """Who the customer is at `merchant_id` (its customer reference and e-mail), if we know."""
    return MerchantAccount.objects.filter(user_id=user_id, merchant_id=merchant_id).first()


@dataclass(frozen=True)
class SavedDetails:
    """The customer's saved cards and addresses (default first, as `payment_methods_for_customer` and
    `addresses_for_customer` order them, at most `limit` of each) and their account at one merchant."""

    payment_methods: list[PaymentMethod]
    addresses: list[Address]
    merchant_id: str
    account: MerchantAccount | None


def _json_rows(model: type, *, where: str, order: str, limit: int) -> str:
    # Only our own table, column names and a number are interpolated; values are parameters.
    table = model._meta.db_table
    rows = f"(SELECT * FROM {table} t WHERE {where} ORDER BY {order} LIMIT {int(limit)}) r"  # noqa: S608
    return f"(SELECT COALESCE(json_agg(row_to_json(r) ORDER BY {order}), '[]'::json) FROM {rows})"  # noqa: S608


def saved_details_sql(*, user_column: str, limit: int) -> str:
    """One SQL expression (JSON text) with the saved cards, addresses and merchant accounts of the customer
    whose id is in `user_column`: embed it in a read the caller makes anyway (`saved_details_parse` reads it
    back). Takes one parameter: the merchant id of the account."""
    live = f"t.user_id = {user_column} AND t.removed_at IS NULL"
    order = "is_default DESC, created_at, id"
    cards = _json_rows(PaymentMethod, where=live, order=order, limit=limit)
    addresses = _json_rows(Address, where=live, order=order, limit=limit)
    accounts = _json_rows(
        MerchantAccount, where=f"t.user_id = {user_column} AND t.merchant_id = %s", order="id", limit=1
    )
    return f"json_build_object('cards', {cards}, 'addresses', {addresses}, 'accounts', {accounts})::text"


def _from_json(model: type, row: dict) -> object:
    fields = model._meta.concrete_fields
    return model.from_db(
        connection.alias,
        [field.attname for field in fields],
        [field.to_python(row[field.column]) if row[field.column] is not None else None for field in fields],
    )


def saved_details_parse(raw: str | dict, *, merchant_id: str) -> SavedDetails:
    """The cards, addresses and account that `saved_details_sql` read (for `merchant_id`), as model instances."""

    data = json.loads(raw) if isinstance(raw, str) else raw
    accounts = [_from_json(MerchantAccount, row) for row in data["accounts"]]
    return SavedDetails(
        payment_methods=[_from_json(PaymentMethod, row) for row in data["cards"]],
        addresses=[_from_json(Address, row) for row in data["addresses"]],
        merchant_id=merchant_id,
        account=accounts[0] if accounts else None,
    )


def saved_details_for_customer(*, user_id: int, merchant_id: str, limit: int = 50) -> SavedDetails:
    """The customer's saved cards, addresses and account at `merchant_id`: one query on PostgreSQL, three
    (the per-kind selectors) elsewhere."""

    def one_query() -> SavedDetails:
        sql = f"SELECT {saved_details_sql(user_column='%s', limit=limit)}"
        with connection.cursor() as cursor:
            cursor.execute(sql, [user_id, user_id, user_id, merchant_id])
            return saved_details_parse(cursor.fetchone()[0], merchant_id=merchant_id)

    def per_kind() -> SavedDetails:
        # The statement's order, its `id` tie-break included.
        return SavedDetails(
            payment_methods=list(
                payment_methods_for_customer(user_id=user_id).order_by("-is_default", "created_at", "id")[:limit]
            ),
            addresses=list(addresses_for_customer(user_id=user_id).order_by("-is_default", "created_at", "id")[:limit]),
            merchant_id=merchant_id,
            account=merchant_account_for_customer(user_id=user_id, merchant_id=merchant_id),
        )

    return postgresql_or_orm(postgresql=one_query, orm=per_kind)


# -- step-up -------------------------------------------------------------------------------------


def stepup_device(*, user_id: int, confirmed: bool | None = True) -> TOTPDevice | None:
    devices = TOTPDevice.objects.filter(user_id=user_id, name__startswith="customer step-up")
    if confirmed is not None:
        devices = devices.filter(confirmed=confirmed)
    return devices.order_by("-id").first()


def stepup_last_verified_at(*, user_id: int) -> datetime | None:
    return (
        StepUpVerification.objects.filter(user_id=user_id)
        .order_by("-verified_at")
        .values_list("verified_at", flat=True)
        .first()
    )


def stepup_verified_within(*, user_id: int, minutes: int | None = None, now: datetime | None = None) -> bool:
    """Did the customer pass a TOTP check in the last `minutes` (default: the policy's step_up_window_minutes)?

    Flows run in Celery workers, without a session, so this reads the recorded verifications.
    A verification older than the customer's newest card or address (added by a person, not the seed)
    does not count: whoever holds the session could add their own and ride on an earlier code.
    """
    minutes = stepup_window_minutes() if minutes is None else minutes
    since = (now or timezone.now()) - timedelta(minutes=minutes)
    for model in (PaymentMethod, Address):
        added = (
            model.objects.filter(user_id=user_id, created_at__gte=since)
            .exclude(added_by=ActorType.SYSTEM)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if added is not None and added > since:
            since = added
    return StepUpVerification.objects.filter(user_id=user_id, verified_at__gte=since).exists()


def stepup_config_url(*, device: TOTPDevice) -> str:
    """The otpauth:// URI an authenticator app adds (it carries the secret: show it only to its owner)."""
    return device.config_url


def stepup_qr_svg(*, device: TOTPDevice) -> str:
    """The provisioning URI as an inline SVG QR code (qrcode's SVG factory: no image library needed)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")
