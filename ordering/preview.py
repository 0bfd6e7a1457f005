"""The deterministic preview: what the customer confirms, built by server code from the merchant's session.

Every amount comes from the merchant's session as it answered; nothing here adds, discounts or
taxes anything. The preview's canonical JSON is hashed (`preview_hash`); a confirmation binds to that
hash, so a customer can only ever confirm the exact preview they were shown.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from catalog_adapters.contract import CheckoutSession
from consent.formatting import format_money
from consent.models import Address, PaymentMethod
from ordering.errors import PreviewIncomplete

_BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "discover": "Discover"}
PREVIEW_NEUTRAL_CODES = frozenset({"price_change", "price_changed"})
# The parts of a preview that, if the merchant's numbers change, make a new confirmation necessary.
PRICED_FIELDS = (
    "currency", "lines", "subtotal", "discount", "promo_codes", "tax", "shipping", "total", "fulfillment", "charges",
)  # fmt: skip
# The merchant's totals the preview shows in their own fields (or that are no charge: sums, the total, refunds);
# every other type (fee, gift_wrap, tip, store_credit, one the spec adds later) is a charge of its own, named.
_SHOWN_TOTALS = frozenset(
    {"items_base_amount", "items_discount", "subtotal", "discount", "tax", "fulfillment", "total", "amount_refunded"}
)
# Totals that lower what is paid (the merchant lists them as positive amounts, as it does discounts).
_CREDIT_TOTALS = frozenset({"store_credit"})
_CHARGE_NAMES = {"fee": "fee", "gift_wrap": "gift wrap", "tip": "tip", "store_credit": "store credit"}
_CHARGE_NAME_LENGTH = 40


def _amount(session: CheckoutSession, total_type: str) -> int:
    money = session.total(total_type)
    return money.amount if money is not None else 0


def _sum(session: CheckoutSession, total_type: str) -> int:
    """Every entry of a type (a merchant may list its state and its city tax apart)."""
    return sum(entry.amount.amount for entry in session.totals if entry.type == total_type)


def _charges(session: CheckoutSession) -> list[dict[str, Any]]:
    """What the merchant's total carries besides the items, discounts, tax and shipping, each as it names it, so
    that the customer confirms every amount paid: [{"type", "name", "amount", "credit"}] (`credit`: it lowers the
    total). Zero amounts are left out."""
    charges = []
    for entry in session.totals:
        if entry.type in _SHOWN_TOTALS or not entry.amount.amount:
            continue
        name = " ".join((entry.display_text or "").split())[:_CHARGE_NAME_LENGTH]
        charges.append(
            {
                "type": entry.type,
                "name": name or _CHARGE_NAMES.get(entry.type, entry.type.replace("_", " ")),
                "amount": entry.amount.amount,
                "credit": entry.type in _CREDIT_TOTALS,
            }
        )
    return charges


def _discounts(session: CheckoutSession) -> int:
    """What the customer saves: the discounts allocated to lines (`items_discount`) and those on the order
    (`discount`: shipping, fees, a flat amount). rfc.discount_extension §8.1 puts each discount in one of the two,
    so they add up; a merchant may list several entries of a type (the spec's stacked-discounts example does)."""
    return sum(entry.amount.amount for entry in session.totals if entry.type in ("items_discount", "discount"))


def _variant_text(colour: str | None, size: str | None) -> str:
    return ", ".join(part for part in (colour, size) if part)


def _fulfillment(session: CheckoutSession) -> dict[str, str] | None:
    details = session.fulfillment_details
    if details is None:
        return None
    address = details.address
    return {
        "line_one": address.line_one,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": address.country,
    }


def _delivery(session: CheckoutSession) -> dict[str, str] | None:
    """The days the shop says the chosen shipping arrives (its option's earliest and latest delivery time, as dates:
    the same cart previewed again a second later is the same preview), for "when will it arrive?" after the order;
    not part of what is priced."""
    chosen = {selected.option_id for selected in session.selected_fulfillment_options}
    for option in session.fulfillment_options:
        if option.id in chosen and (option.earliest_delivery_time or option.latest_delivery_time):
            return {
                "earliest": option.earliest_delivery_time.date().isoformat() if option.earliest_delivery_time else "",
                "latest": option.latest_delivery_time.date().isoformat() if option.latest_delivery_time else "",
            }
    return None


def _shipping_options(session: CheckoutSession) -> list[dict[str, Any]]:
    """Every way the shop offers to ship this cart, with its own price for it and the last day it gives, so that
    "how much is express?" is answered with the shop's number before anything changes: [{"id", "title", "amount",
    "latest", "chosen"}]. Options the shop prices no amount for are left out; nothing here is computed by us."""
    chosen = {selected.option_id for selected in session.selected_fulfillment_options}
    options = []
    for option in session.fulfillment_options:
        priced = [entry for entry in option.totals if entry.type in ("total", "fulfillment")]
        if not priced:
            continue
        amount = next((entry for entry in priced if entry.type == "total"), priced[0]).amount.amount
        options.append(
            {
                "id": option.id,
                "title": option.title,
                "amount": amount,
                "latest": option.latest_delivery_time.date().isoformat() if option.latest_delivery_time else "",
                "chosen": option.id in chosen,
            }
        )
    return options


def preview_build(
    *, merchant_id: str, session: CheckoutSession, payment_method: PaymentMethod, address: Address
) -> dict[str, Any]:
    """The preview of a merchant session, or PreviewIncomplete when the merchant cannot be paid yet."""
    total = session.total("total")
    if total is None or not session.line_items:
        raise PreviewIncomplete("The merchant has not priced this order yet.", session_id=session.id)
    # "price_change" says the totals are new; the preview shows exactly those, so it is no obstacle.
    blocking = [message for message in session.errors if message.code not in PREVIEW_NEUTRAL_CODES]
    if blocking:
        first = blocking[0]
        raise PreviewIncomplete(first.content or first.code, session_id=session.id, code=first.code)
    lines = []
    for line in session.line_items:
        lines.append(
            {
                "product_id": line.item_id,
                "title": line.title,
                "variant": _variant_text(line.colour, line.size),
                "quantity": line.quantity,
                # The merchant's unit price (ACP unit_amount); the merchant's line total stays authoritative.
                "unit_amount": line.unit_amount.amount
                if line.unit_amount is not None
                else (line.base_amount.amount // line.quantity if line.quantity else line.base_amount.amount),
                "total": line.total.amount,
            }
        )
    preview: dict[str, Any] = {
        "merchant_id": merchant_id,
        "checkout_session_id": session.id,
        "currency": session.currency.lower(),
        "lines": lines,
        "subtotal": _amount(session, "items_base_amount") or _amount(session, "subtotal"),
        "discount": _discounts(session),
        "promo_codes": sorted(session.discount_codes),
        "tax": _sum(session, "tax"),
        "shipping": _sum(session, "fulfillment"),
        "total": total.amount,
        "ship_to": {"address_id": address.pk, "label": address.label, "masked": f"{address.label} ({address.city})"},
        # Where the merchant will actually ship (its session, not our address book): part of what is confirmed.
        "fulfillment": _fulfillment(session),
        "delivery": _delivery(session),
        "shipping_options": _shipping_options(session),
        "payment": {
            "payment_method_id": payment_method.pk,
            "brand": payment_method.brand,
            "last4": payment_method.last4,
        },
        "expires_at": session.expires_at.isoformat() if session.expires_at else None,
        # The shop's own checkout page for this session: offered when we cannot place the order ourselves.
        "continue_url": session.continue_url or None,
    }
    charges = _charges(session)
    if charges:  # only then: a preview confirmed before charges were named reads the same (PRICED_FIELDS)
        preview["charges"] = charges
    return preview


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def preview_hash(preview: dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(preview).encode()).hexdigest()


def preview_priced_content(preview: dict[str, Any]) -> dict[str, Any]:
    return {field: preview.get(field) for field in PRICED_FIELDS}


def preview_drifted(confirmed: dict[str, Any], current: dict[str, Any]) -> bool:
    """True when the merchant's numbers differ from what the customer confirmed."""
    return _canonical(preview_priced_content(confirmed)) != _canonical(preview_priced_content(current))


def preview_text(preview: dict[str, Any]) -> str:
    """The one-sentence preview the assistant says, e.g. "I'll order 1x Blue Runner (42) — $71.10 …"."""
    currency = preview["currency"]
    items = ", ".join(
        f"{line['quantity']}x {line['title']}" + (f" ({line['variant']})" if line["variant"] else "")
        for line in preview["lines"]
    )
    text = f"I'll order {items} — {format_money(preview['total'], currency)}"
    if preview["discount"]:
        codes = f" ({', '.join(preview['promo_codes'])})" if preview["promo_codes"] else ""
        text += f" after {format_money(preview['discount'], currency)} off{codes}"
    shipping = (
        "free shipping" if preview["shipping"] == 0 else f"{format_money(preview['shipping'], currency)} shipping"
    )
    charges = "".join(
        f", {'less ' if charge['credit'] else ''}{format_money(charge['amount'], currency)} {charge['name'].lower()}"
        for charge in preview.get("charges") or ()
    )
    payment = preview["payment"]
    return (
        f"{text}, incl. {format_money(preview['tax'], currency)} tax, {shipping}{charges}, "
        f"to {preview['ship_to']['label']}, paid with {_BRANDS.get(payment['brand'], 'Card')} •••• {payment['last4']}. "
        "Confirm?"
    )
