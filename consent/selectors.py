"""Consent grants, spend caps, vault-only payment methods, step-up.

Reads, as querysets and plain values for views, tasks and other apps. Every read of customer data takes
the customer's id and filters by it: another customer's object is simply not found (a 404 upstream).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import ActorType
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

    This is the flows' consent check: it reads the database every time, so a revocation committed a
    moment ago already denies. Raises ConsentRevoked, ConsentExpired or ConsentMissing (all
    ConsentDenied, with `.reason` and `.scope`) and a message the customer can be shown.
    """
    now = timezone.now()
    granted = []
    for scope in scopes:
        scope = Scope(scope)
        words = _SCOPE_WORDS[scope]
        latest = ConsentGrant.objects.filter(user_id=user_id, scope=scope).order_by("-granted_at", "-id").first()
        if latest is None or latest.status == GrantStatus.SUPERSEDED:
            raise ConsentMissing(f"You have not allowed the assistant to {words}.", scope=scope)
        if latest.status == GrantStatus.REVOKED:
            raise ConsentRevoked(
                f"You revoked the assistant's permission to {words}. Grant it again on your settings page to continue.",
                scope=scope,
                grant_id=latest.pk,
            )
        if grant_is_expired(latest, now=now):
            raise ConsentExpired(
                f"Your permission for the assistant to {words} expired on {latest.expires_at:%Y-%m-%d %H:%M} UTC.",
                scope=scope,
                grant_id=latest.pk,
            )
        granted.append(latest)
    return granted


def consent_allows(*, user_id: int, scopes: Iterable[str] = (Scope.PLACE_ORDERS,)) -> bool:
    try:
        consent_require(user_id=user_id, scopes=scopes)
    except ConsentDenied:
        return False
    return True


# -- caps and spend ------------------------------------------------------------------------------


def spend_cap_ceilings() -> dict[str, int]:
    """The most any customer may allow, per cap kind. The one place that reads them (later: rollout)."""
    return {kind: int(settings.CONSENT_CAP_CEILINGS[kind]) for kind in CapKind.values}


def auto_checkout_ceiling() -> int:
    return int(settings.CONSENT_AUTO_CHECKOUT_CEILING)


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
    profile = profile_for_customer(user_id=user_id)
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


def _used(entries: QuerySet[SpendEntry], *, now: datetime) -> int:
    """Committed amounts plus reservations that are neither settled nor expired, summed by the database."""
    settled = SpendEntry.objects.filter(reservation=OuterRef("pk"))
    live_reserved = entries.filter(kind=SpendKind.RESERVE, expires_at__gt=now).exclude(Exists(settled))
    committed = entries.filter(kind=SpendKind.COMMIT)
    return int(live_reserved.aggregate(total=Sum("amount"))["total"] or 0) + int(
        committed.aggregate(total=Sum("amount"))["total"] or 0
    )


@dataclass(frozen=True)
class SpendUsage:
    currency: str
    used: dict[str, int]  # per_day, per_month, per_session (per_order has no history)
    caps: dict[str, int]
    ceilings: dict[str, int]
    chosen: dict[str, int | None]


def spend_used(
    *, user_id: int, chat_session_reference: str = "", currency: str | None = None, now: datetime | None = None
) -> dict[str, int]:
    """Used spend per window: today, this month (calendar, TIME_ZONE) and this chat session."""
    now = now or timezone.now()
    entries = SpendEntry.objects.filter(user_id=user_id, currency=currency or settings.CONSENT_CURRENCY)
    used = {
        CapKind.PER_DAY.value: _used(entries.filter(created_at__gte=_start_of_day(now)), now=now),
        CapKind.PER_MONTH.value: _used(entries.filter(created_at__gte=_start_of_month(now)), now=now),
    }
    used[CapKind.PER_SESSION.value] = (
        _used(entries.filter(chat_session_reference=chat_session_reference), now=now) if chat_session_reference else 0
    )
    return used


CAP_WORDS = {
    CapKind.PER_ORDER: "per-order cap",
    CapKind.PER_DAY: "daily cap",
    CapKind.PER_MONTH: "monthly cap",
    CapKind.PER_SESSION: "per-chat-session cap",
}


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

    A read: it reserves nothing. `spend_reserve` runs it again under the customer's lock; the agent runs
    it before offering a preview, so a customer is never asked to confirm an order that cannot be placed.
    """
    now = now or timezone.now()
    profile = profile if profile is not None else profile_for_customer(user_id=user_id)
    caps = spend_caps_effective(profile=profile)
    used = spend_used(user_id=user_id, chat_session_reference=chat_session_reference, currency=currency, now=now)
    used[CapKind.PER_ORDER] = 0
    for kind in (CapKind.PER_ORDER, CapKind.PER_DAY, CapKind.PER_MONTH, CapKind.PER_SESSION):
        if kind == CapKind.PER_SESSION and not chat_session_reference:
            continue
        if used[kind] + amount > caps[kind]:
            left = max(caps[kind] - used[kind], 0)
            detail = "" if kind == CapKind.PER_ORDER else f" {format_money(left, currency)} of it is left."
            raise SpendCapExceeded(
                f"This order of {format_money(amount, currency)} is over your {CAP_WORDS[kind]} of "
                f"{format_money(caps[kind], currency)}.{detail}",
                cap=kind.value,
                limit=caps[kind],
                used=used[kind],
                requested=amount,
                currency=currency,
            )


ORDER_SCOPES = (Scope.PLACE_ORDERS, Scope.USE_SAVED_PAYMENT, Scope.USE_SAVED_ADDRESS)


def order_placement_check(*, user_id: int, amount: int, currency: str, chat_session_reference: str = "") -> None:
    """Everything the customer's own settings say about placing this order now, checked without reserving:
    the grants an assistant order needs, then every spend cap. Raises ConsentDenied or SpendCapExceeded
    with a message that names what stands in the way."""
    consent_require(user_id=user_id, scopes=ORDER_SCOPES)
    spend_check(user_id=user_id, amount=amount, currency=currency, chat_session_reference=chat_session_reference)


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


def spend_expired_reservations(*, now: datetime | None = None) -> QuerySet[SpendEntry]:
    settled = SpendEntry.objects.filter(reservation=OuterRef("pk"))
    return (
        SpendEntry.objects.filter(kind=SpendKind.RESERVE, expires_at__lte=now or timezone.now())
        .exclude(Exists(settled))
        .order_by("expires_at")
    )


# -- payment methods, addresses, merchant accounts -----------------------------------------------


def payment_methods_for_customer(*, user_id: int) -> QuerySet[PaymentMethod]:
    return PaymentMethod.objects.filter(user_id=user_id, removed_at__isnull=True).order_by("-is_default", "created_at")


def payment_method_get(*, user_id: int, payment_method_id: int) -> PaymentMethod:
    return get_object_or_404(PaymentMethod, pk=payment_method_id, user_id=user_id, removed_at__isnull=True)


def payment_method_default(*, user_id: int) -> PaymentMethod | None:
    return payment_methods_for_customer(user_id=user_id).filter(is_default=True).first()


def addresses_for_customer(*, user_id: int) -> QuerySet[Address]:
    return Address.objects.filter(user_id=user_id, removed_at__isnull=True).order_by("-is_default", "created_at")


def address_get(*, user_id: int, address_id: int) -> Address:
    return get_object_or_404(Address, pk=address_id, user_id=user_id, removed_at__isnull=True)


def address_default(*, user_id: int) -> Address | None:
    return addresses_for_customer(user_id=user_id).filter(is_default=True).first()


def merchant_account_for_customer(*, user_id: int, merchant_id: str) -> MerchantAccount | None:
    """Who the customer is at `merchant_id` (its customer reference and e-mail), if we know."""
    return MerchantAccount.objects.filter(user_id=user_id, merchant_id=merchant_id).first()


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
    """Did the customer pass a TOTP check in the last `minutes` (default CONSENT_STEPUP_WINDOW_MINUTES)?

    Flows run in Celery workers, without a session, so this reads the recorded verifications.
    A verification older than the customer's newest card or address (added by a person, not the seed)
    does not count: whoever holds the session could add their own and ride on an earlier code.
    """
    minutes = settings.CONSENT_STEPUP_WINDOW_MINUTES if minutes is None else minutes
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


# -- activity log --------------------------------------------------------------------------------

_ACTIVITY_WORDS = {
    "consent.grant_created": "Permission granted",
    "consent.grant_revoked": "Permission revoked",
    "consent.caps_changed": "Spending caps changed",
    "consent.auto_checkout_changed": "Auto-checkout threshold changed",
    "consent.payment_method_added": "Card saved",
    "consent.payment_method_removed": "Card removed",
    "consent.payment_method_default_changed": "Default card changed",
    "consent.address_added": "Address saved",
    "consent.address_removed": "Address removed",
    "consent.address_default_changed": "Default address changed",
    "consent.merchant_account_linked": "Shop account linked",
    "consent.stepup_enrolment_started": "Authenticator setup started",
    "consent.stepup_enrolment_failed": "Authenticator setup code refused",
    "consent.stepup_enrolled": "Authenticator app set up",
    "consent.stepup_verified": "Identity confirmed with authenticator code",
    "consent.stepup_failed": "Authenticator code refused",
    "spend.reserved": "Spending reserved for an order",
    "spend.reserve_denied": "Order stopped by a spending cap",
    "spend.committed": "Order paid",
    "spend.released": "Reserved spending released",
}


def activity_for_customer(*, user_id: int):
    """The customer's own audit events, newest first (audit's selector; nobody else's events)."""
    from audit.selectors import audit_events_for_customer

    return audit_events_for_customer(customer_id=user_id)


def activity_event_get(*, user_id: int, event_id: int):
    return get_object_or_404(activity_for_customer(user_id=user_id), pk=event_id)


def activity_description(action: str) -> str:
    return _ACTIVITY_WORDS.get(action) or action.replace("_", " ").replace(".", ": ").capitalize()


def stepup_config_url(*, device: TOTPDevice) -> str:
    """The otpauth:// URI an authenticator app adds (it carries the secret: show it only to its owner)."""
    return device.config_url


def stepup_qr_svg(*, device: TOTPDevice) -> str:
    """The provisioning URI as an inline SVG QR code (qrcode's SVG factory: no image library needed)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")
