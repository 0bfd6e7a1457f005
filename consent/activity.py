"""The customer's activity log: their own audit events, as sentences in plain words (reads).

What a customer sees of the audit log is an allow-list (`_ACTIVITY`, action → sentence): every other
action is not shown. Read by the account page and `GET /api/v1/activity/`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404

from consent.formatting import format_money
from consent.models import CapKind
from consent.selectors import profile_for_customer

# What a customer sees of the audit log is an ALLOW-LIST: each action below is turned into a sentence
# and a few safe fields; every other action (agent tool calls, risk assessments, escalation
# internals, staff actions, ledger bookkeeping, and any action added later) is not shown. Never
# shown, whatever the action: staff notes and ids, risk scores and reasons, trace ids, IPs, raw data.

ACTIVITY_PAGE_MAX = 200


@dataclass(frozen=True)
class ActivityEntry:
    """One line of the customer's activity: a sentence in plain words and the few facts it is about."""

    id: int
    sequence: int
    at: datetime
    kind: str
    text: str
    amount: int | None = None
    currency: str = ""
    order_reference: str = ""
    card_last4: str = ""

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency) if self.amount is not None and self.currency else ""


@dataclass(frozen=True)
class _Said:
    kind: str
    text: str
    amount: int | None = None
    currency: str = ""
    order_reference: str = ""
    card_last4: str = ""


_SCOPE_WORDS = {
    "place_orders": "place orders for you",
    "use_saved_payment": "pay with your saved cards",
    "use_saved_address": "ship to your saved addresses",
}
_CAP_NAMES = {
    CapKind.PER_ORDER.value: "per-order cap",
    CapKind.PER_DAY.value: "daily cap",
    CapKind.PER_MONTH.value: "monthly cap",
    CapKind.PER_SESSION.value: "per-chat cap",
}
_CARD = re.compile(r"^(?P<brand>.{1,30}?) •••• (?P<last4>\d{4})$")


def _by_customer(event) -> bool:
    return event.actor_type == "customer"


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text(value, limit: int = 60) -> str:
    return str(value)[:limit] if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _card(data: dict) -> tuple[str, str]:
    """(brand, last4) of a masked card in event data ("Visa •••• 4242"); nothing else of it."""
    match = _CARD.match(data.get("card") or "") if isinstance(data.get("card"), str) else None
    return (match["brand"], match["last4"]) if match else ("", "")


def _card_words(data: dict) -> tuple[str, str]:
    brand, last4 = _card(data)
    return (f"{brand} card ending {last4}" if last4 else "card"), last4


def _money(data: dict, amount_key: str = "total") -> tuple[int | None, str]:
    amount = _int(data.get(amount_key))
    currency = data.get("currency") if isinstance(data.get("currency"), str) else ""
    return (amount, currency.upper()) if amount is not None and len(currency) == 3 else (None, "")


def _of_amount(amount: int | None, currency: str) -> str:
    return f" of {format_money(amount, currency)}" if amount is not None else ""


def _grant_created(event, data: dict, currency: str) -> _Said | None:
    words = _SCOPE_WORDS.get(data.get("scope"))
    if words is None:
        return None
    who = "You allowed" if _by_customer(event) else "Your account now allows"
    return _Said("permission_granted", f"{who} the assistant to {words}")


def _grant_revoked(event, data: dict, currency: str) -> _Said | None:
    words = _SCOPE_WORDS.get(data.get("scope"))
    if words is None:
        return None
    if _by_customer(event):
        return _Said("permission_revoked", f"You revoked the assistant's permission to {words}")
    return _Said("permission_revoked", f"The assistant's permission to {words} was withdrawn")


def _caps_changed(event, data: dict, currency: str) -> _Said | None:
    after = data.get("after") if isinstance(data.get("after"), dict) else {}
    parts = []
    for kind, name in _CAP_NAMES.items():
        if kind in after:
            value = _int(after[kind])
            parts.append(
                f"{name} {format_money(value, currency)}" if value is not None else f"{name} back to the standard limit"
            )
    if not parts:
        return None
    return _Said(
        "caps_changed",
        ("You changed your spending caps: " if _by_customer(event) else "Your spending caps changed: ")
        + ", ".join(parts),
    )


def _auto_checkout_changed(event, data: dict, currency: str) -> _Said | None:
    amount, money_currency = _money(data, "after")
    if not amount:
        return _Said(
            "auto_checkout_changed",
            "You turned auto-checkout off" if _by_customer(event) else "Auto-checkout was turned off",
        )
    who = "You let" if _by_customer(event) else "Your account lets"
    return _Said(
        "auto_checkout_changed",
        f"{who} the assistant place orders under {format_money(amount, money_currency)} without asking you first",
        amount=amount,
        currency=money_currency,
    )


def _card_event(kind: str, customer_words: str, other_words: str):
    def say(event, data: dict, currency: str) -> _Said:
        card, last4 = _card_words(data)
        template = customer_words if _by_customer(event) else other_words
        return _Said(kind, template.format(card=card), card_last4=last4)

    return say


def _address_event(kind: str, customer_words: str, other_words: str):
    def say(event, data: dict, currency: str) -> _Said:
        label = _text(data.get("label"), 40) or "an address"
        template = customer_words if _by_customer(event) else other_words
        return _Said(kind, template.format(label=label))

    return say


def _fixed(kind: str, text: str):
    def say(event, data: dict, currency: str) -> _Said:
        return _Said(kind, text)

    return say


_REPLACEMENT_REFUSED_WHY = {
    "no_proof": ": no code from your app and no password was given",
    "wrong_code": ": the code from your current app was wrong",
    "wrong_password": ": the password was wrong",
}


def _replacement_refused(event, data: dict, currency: str) -> _Said:
    # A wrong code at verification is shown ("An authenticator code was refused"); an attempt to swap the app
    # itself, the step an account takeover needs, is at least as much the account holder's business.
    why = _REPLACEMENT_REFUSED_WHY.get(data.get("reason"), "")
    return _Said("authenticator_replacement_refused", f"A request to replace your authenticator app was refused{why}")


def _card_refused(event, data: dict, currency: str) -> _Said:
    if data.get("reason") == "no_account":
        return _Said("card_refused", "A card was not saved: your account is not linked to the shop yet")
    return _Said("card_refused", "A card was not saved: the shop did not confirm it is yours")


def _reserve_denied(event, data: dict, currency: str) -> _Said | None:
    amount, money_currency = _money(data, "requested")
    cap = _CAP_NAMES.get(data.get("cap"), "spending cap")
    limit = _int(data.get("limit"))
    limit_words = f" of {format_money(limit, money_currency)}" if limit is not None and money_currency else ""
    return _Said(
        "order_stopped_by_cap",
        f"An order{_of_amount(amount, money_currency)} was stopped by your {cap}{limit_words}",
        amount=amount,
        currency=money_currency,
    )


def _rated(event, data: dict, currency: str) -> _Said | None:
    score = _int(data.get("score"))
    return _Said("chat_rated", f"You rated a chat {score} out of 5") if score and 1 <= score <= 5 else None


def _flow_confirmed(event, data: dict, currency: str) -> _Said:
    amount, money_currency = _money(data)
    if data.get("channel") == "auto_checkout":
        text = f"An order{_of_amount(amount, money_currency)} went ahead without asking, under your auto-checkout limit"
    else:
        text = f"You confirmed an order{_of_amount(amount, money_currency)}"
    return _Said("order_confirmed", text, amount=amount, currency=money_currency)


def _flow_placed(event, data: dict, currency: str) -> _Said:
    amount, money_currency = _money(data)
    reference = _text(data.get("merchant_order_id"), 64)
    number = f" {reference}" if reference else ""
    return _Said(
        "order_placed",
        f"Your order{number}{_of_amount(amount, money_currency)} was placed",
        amount=amount,
        currency=money_currency,
        order_reference=reference,
    )


_FAILURE_WORDS = {
    "out_of_stock": "was not placed: an item sold out. Nothing was charged",
    "merchant_unavailable": "was not placed: the shop did not answer. Nothing was charged",
    "spend_reservation_expired": "was not placed because it waited too long; please confirm it again",
    "payment_token_expired": "was not placed because it waited too long; please confirm it again",
    "payment_method_removed": "was not placed: you had removed the card it was to be paid with. Nothing was charged",
    "address_removed": "was not placed: you had removed the address it was to be shipped to. Nothing was charged",
}


def _flow_failed(event, data: dict, currency: str) -> _Said | None:
    amount, money_currency = _money(data)
    code = data.get("code")
    if code == "spend_cap_exceeded":
        return None  # the cap refusal itself is the entry (spend.reserve_denied)
    if code == "payment_declined":
        card, last4 = _card_words(data)
        return _Said(
            "card_declined",
            f"Your {card} was declined for an order{_of_amount(amount, money_currency)}; nothing was charged",
            amount=amount,
            currency=money_currency,
            card_last4=last4,
        )
    if code == "card_brand_not_accepted":
        card, last4 = _card_words(data)
        return _Said(
            "card_not_accepted",
            f"The shop does not take your {card}, so an order{_of_amount(amount, money_currency)} was not placed; "
            "nothing was charged",
            amount=amount,
            currency=money_currency,
            card_last4=last4,
        )
    words = _FAILURE_WORDS.get(code, "could not be placed")
    return _Said(
        "order_not_placed",
        f"Your order{_of_amount(amount, money_currency)} {words}",
        amount=amount,
        currency=money_currency,
    )


def _flow_words(kind: str, template: str):
    def say(event, data: dict, currency: str) -> _Said:
        amount, money_currency = _money(data)
        return _Said(
            kind, template.format(of=_of_amount(amount, money_currency)), amount=amount, currency=money_currency
        )

    return say


def _flow_canceled(event, data: dict, currency: str) -> _Said:
    amount, money_currency = _money(data)
    text = (
        f"You cancelled an order{_of_amount(amount, money_currency)} before it was placed"
        if _by_customer(event)
        else f"An order{_of_amount(amount, money_currency)} was cancelled before it was placed"
    )
    return _Said("order_cancelled", text, amount=amount, currency=money_currency)


def _order_cancel_requested(event, data: dict, currency: str) -> _Said:
    reference = _text(data.get("merchant_order_id"), 64)
    number = f" {reference}" if reference else ""
    if event.outcome != "ok":
        return _Said(
            "order_cancel_failed", f"Your request to cancel order{number} did not go through", order_reference=reference
        )
    status = data.get("merchant_status")
    if status == "refunded":
        text = f"Your order{number} was cancelled and refunded"
    elif status == "canceled":
        text = f"Your order{number} was cancelled"
    else:
        text = f"You asked to cancel your order{number}"
    return _Said("order_cancelled", text, order_reference=reference)


def _order_undone(event, data: dict, currency: str) -> _Said | None:
    if data.get("status") != "done":
        return None  # nothing was there to undo, or the attempt failed (a person follows it up)
    return _Said("order_refunded", "An order that could not be completed as confirmed was cancelled and refunded")


def _shop_changed_order(event, data: dict, currency: str) -> _Said:
    reference = _text(data.get("merchant_order_id"), 64)
    number = f" {reference}" if reference else ""
    refunded, money_currency = _money(data, "refunded")
    back = f"; {format_money(refunded, money_currency)} refunded" if refunded else ""
    if event.action == "flow.order_canceled_by_merchant":
        return _Said(
            "order_canceled_by_shop",
            f"The shop cancelled your order{number}{back}",
            amount=refunded,
            currency=money_currency,
            order_reference=reference,
        )
    return _Said(
        "order_refunded_by_shop",
        f"The shop refunded {format_money(refunded or 0, money_currency)} of your order{number}",
        amount=refunded,
        currency=money_currency,
        order_reference=reference,
    )


_ACTIVITY = {
    "consent.grant_created": _grant_created,
    "consent.grant_revoked": _grant_revoked,
    "consent.caps_changed": _caps_changed,
    "consent.auto_checkout_changed": _auto_checkout_changed,
    "consent.payment_method_added": _card_event("card_saved", "You saved your {card}", "Your {card} was saved"),
    "consent.payment_method_removed": _card_event("card_removed", "You removed your {card}", "Your {card} was removed"),
    "consent.payment_method_default_changed": _card_event(
        "default_card_changed", "You made your {card} the default", "Your {card} became the default"
    ),
    "consent.address_added": _address_event(
        "address_saved", "You saved the address “{label}”", "The address “{label}” was saved"
    ),
    "consent.address_removed": _address_event(
        "address_removed", "You removed the address “{label}”", "The address “{label}” was removed"
    ),
    "consent.address_default_changed": _address_event(
        "default_address_changed", "You made “{label}” your default address", "“{label}” became your default address"
    ),
    "consent.merchant_account_linked": _fixed("shop_account_linked", "Your shop account was linked"),
    "consent.stepup_enrolled": _fixed("authenticator_set_up", "You set up your authenticator app"),
    "consent.stepup_verified": _fixed("identity_confirmed", "You confirmed it was you with your authenticator code"),
    "consent.stepup_failed": _fixed("authenticator_code_refused", "An authenticator code was refused"),
    "consent.stepup_replacement_refused": _replacement_refused,
    "consent.payment_method_refused": _card_refused,
    "spend.reserve_denied": _reserve_denied,
    "conversation.staff_replied": _fixed("specialist_replied", "A support specialist replied in your chat"),
    "conversation.handed_back": _fixed("chat_handed_back", "The assistant took over your chat again"),
    "conversation.rated": _rated,
    "flow.confirmed": _flow_confirmed,
    "flow.placed": _flow_placed,
    "flow.failed": _flow_failed,
    "flow.requires_action": _flow_words("order_needs_verification", "Your order{of} is waiting for a verification"),
    "flow.escalated": _flow_words("order_with_specialist", "A support specialist is looking at your order{of}"),
    "flow.canceled": _flow_canceled,
    "flow.expired": _flow_words("order_expired", "An order{of} you had not confirmed expired"),
    "flow.order_cancel_requested": _order_cancel_requested,
    "compensation.cancel_order": _order_undone,
    "flow.order_canceled_by_merchant": _shop_changed_order,
    "flow.order_refunded": _shop_changed_order,
}
# Every other action the code records is deliberately not shown, e.g. conversation.started,
# flow.started/previewed/placing/compensating/compensated, spend.reserved/committed/released,
# compensation.cancel_checkout/release_spend/revoke_token, agent.*, risk.*, escalation.*, staff.*,
# audit.*, consent.stepup_enrolment_*; tests/consent/test_activity.py lists them.
ACTIVITY_ACTIONS = frozenset(_ACTIVITY)


def activity_entry(event, *, currency: str | None = None) -> ActivityEntry | None:
    """The customer-facing entry for one audit event, or None when the customer does not see it."""
    say = _ACTIVITY.get(event.action)
    if say is None:
        return None
    data = event.data if isinstance(event.data, dict) else {}
    said = say(event, data, (currency or settings.CONSENT_CURRENCY).upper())
    if said is None:
        return None
    return ActivityEntry(
        id=event.pk,
        sequence=event.sequence,
        at=event.occurred_at,
        kind=said.kind,
        text=said.text,
        amount=said.amount,
        currency=said.currency,
        order_reference=said.order_reference,
        card_last4=said.card_last4,
    )


def _activity_events(*, user_id: int):
    """The customer's own audit events of the allowed actions, newest first (nobody else's events)."""
    from audit.selectors import audit_events_for_customer

    return audit_events_for_customer(customer_id=user_id).filter(action__in=ACTIVITY_ACTIONS)


def _customer_currency(user_id: int) -> str:
    profile = profile_for_customer(user_id=user_id)
    return profile.currency if profile is not None else settings.CONSENT_CURRENCY


def activity_page(
    *, user_id: int, before: int | None = None, limit: int = 50
) -> tuple[list[ActivityEntry], int | None]:
    """Up to `limit` entries older than sequence `before`, and the `before` of the next page (None: no more).

    Some allowed actions are shown only in some cases (a refused undo is not), so the page is filled
    by reading on until it holds `limit` entries.
    """
    limit = min(max(limit, 1), ACTIVITY_PAGE_MAX)
    currency = _customer_currency(user_id)
    events = _activity_events(user_id=user_id)
    if before is not None:
        events = events.filter(sequence__lt=before)
    entries: list[ActivityEntry] = []
    last_read: int | None = None
    batch = limit + 10
    while len(entries) < limit:
        chunk = list(events.filter(sequence__lt=last_read)[:batch] if last_read is not None else events[:batch])
        for event in chunk:
            last_read = event.sequence
            entry = activity_entry(event, currency=currency)
            if entry is not None:
                entries.append(entry)
                if len(entries) == limit:
                    break
        if len(chunk) < batch:
            break
    if len(entries) < limit or last_read is None:
        return entries, None
    return entries, (last_read if events.filter(sequence__lt=last_read).exists() else None)


def activity_entry_get(*, user_id: int, event_id: int) -> ActivityEntry:
    """One of the customer's own shown entries; Http404 for another customer's event or one not shown."""
    event = get_object_or_404(_activity_events(user_id=user_id), pk=event_id)
    entry = activity_entry(event, currency=_customer_currency(user_id))
    if entry is None:
        raise Http404("No such activity.")
    return entry
