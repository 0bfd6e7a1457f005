"""Pricing: the promotions rules engine, tax by region and shipping. Pure functions, no database.

Services hand in what they loaded (lines, the customer, promotions, the address) and get back a
`Quote`: line amounts, applied discounts, shipping options, totals and the messages that explain
anything refused. Keeping it pure makes every rule testable and keeps transactions short.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from sandbox_merchant.models import Promotion, PromotionKind
from sandbox_merchant.wire import rfc3339


@dataclass(frozen=True)
class PricedInput:
    line_id: str
    variant_id: str
    product_id: str
    title: str
    category: str
    colour: str
    size: str
    quantity: int
    unit_amount: int


@dataclass
class PricedLine:
    source: PricedInput
    base_amount: int
    discount: int = 0
    tax: int = 0

    @property
    def subtotal(self) -> int:
        return self.base_amount - self.discount

    @property
    def total(self) -> int:
        return self.subtotal + self.tax


@dataclass
class Quote:
    lines: list[PricedLine]
    applied_discounts: list[dict] = field(default_factory=list)
    rejected_discounts: list[dict] = field(default_factory=list)
    fulfillment_options: list[dict] = field(default_factory=list)
    fulfillment_amount: int = 0
    messages: list[dict] = field(default_factory=list)

    @property
    def items_base_amount(self) -> int:
        return sum(line.base_amount for line in self.lines)

    @property
    def items_discount(self) -> int:
        return sum(line.discount for line in self.lines)

    @property
    def subtotal(self) -> int:
        return self.items_base_amount - self.items_discount

    @property
    def tax(self) -> int:
        return sum(line.tax for line in self.lines)

    @property
    def total(self) -> int:
        return self.subtotal + self.fulfillment_amount + self.tax

    def totals(self) -> list[dict]:
        # Every sandbox discount is allocated to line items, so it is `items_discount` only (rfc.discount_extension
        # §8.1); `discount` is for order-level discounts (shipping, fees, a flat order amount), which the sandbox
        # has none of, and repeating the item discounts there counted them twice.
        return [
            {"type": "items_base_amount", "display_text": "Items", "amount": self.items_base_amount},
            {"type": "items_discount", "display_text": "Item discounts", "amount": self.items_discount},
            {"type": "subtotal", "display_text": "Subtotal", "amount": self.subtotal},
            {"type": "fulfillment", "display_text": "Shipping", "amount": self.fulfillment_amount},
            {"type": "tax", "display_text": "Tax", "amount": self.tax},
            {"type": "total", "display_text": "Total", "amount": self.total},
        ]


# How a buyer gets past each message (ACP `resolution`).
_RESOLUTIONS = {
    "out_of_stock": "requires_buyer_input",
    "payment_declined": "requires_buyer_input",
    "requires_3ds": "requires_buyer_input",
    "invalid": "requires_buyer_input",
    "missing": "requires_buyer_input",
    "price_change": "requires_buyer_review",
}


def message(*, type: str, code: str, param: str | None, content: str, resolution: str | None = None) -> dict:
    """An ACP MessageWarning/MessageError (codes from the spec's enums); no `param` key when there is none."""
    body = {"type": type, "code": code, "content_type": "plain", "content": content}
    if param:
        body["param"] = param
    resolution = resolution or _RESOLUTIONS.get(code) or ("recoverable" if code.startswith("discount_code") else None)
    if resolution:
        body["resolution"] = resolution
    return body


def empty_cart_message() -> dict:
    """The error that keeps a session without line items from being paid (see quote_lines)."""
    return message(
        type="error",
        code="missing",
        param="$.line_items",
        content="The checkout has no items; add at least one before it can be paid. Nothing was charged.",
    )


def round_half_up(numerator: int, denominator: int) -> int:
    return (numerator * 2 + denominator) // (denominator * 2)


def tax_rate_basis_points(address: dict | None) -> int:
    if not address:
        return 0
    country = str(address.get("country") or "").upper()
    state = str(address.get("state") or "").upper()
    rates = settings.SANDBOX_MERCHANT_TAX_RATES
    return rates.get(f"{country}-{state}", rates.get(country, 0))


def _promotion_refusal(
    promotion: Promotion | None, *, customer_id: str | None, currency: str, eligible_base: int, now: datetime
) -> tuple[str, str] | None:
    """Why a code does not apply (ACP DiscountErrorCode, explanation), or None when it does."""
    if promotion is None or not promotion.active:
        return "discount_code_invalid", "This code does not exist."
    if promotion.customer_id and promotion.customer_id != customer_id:
        # A personal promo is not revealed to anyone else: to them it simply does not exist.
        return "discount_code_invalid", "This code does not exist."
    if promotion.starts_at and promotion.starts_at > now:
        return "discount_code_invalid", "This code is not active yet."
    if promotion.expires_at and promotion.expires_at <= now:
        return "discount_code_expired", "This code has expired."
    if promotion.kind == PromotionKind.AMOUNT and promotion.currency != currency:
        return "discount_code_invalid", "This code is for another currency."
    if eligible_base == 0:
        return "discount_code_invalid", f"No item in the cart is in the code's category ({promotion.category})."
    if eligible_base < promotion.minimum_spend_amount:
        minimum = promotion.minimum_spend_amount
        return "discount_code_minimum_not_met", (
            f"This code needs a minimum spend of {minimum // 100}.{minimum % 100:02d} {currency.upper()}."
        )
    return None


def _spread(amount: int, weights: list[int]) -> list[int]:
    """Split an amount over lines in proportion to their weights (largest remainder), summing exactly."""
    total = sum(weights)
    if total == 0:
        return [0 for _ in weights]
    shares = [amount * weight // total for weight in weights]
    order = sorted(range(len(weights)), key=lambda index: (-(amount * weights[index] % total), index))
    for index in order[: amount - sum(shares)]:
        shares[index] += 1
    return shares


def quote_lines(
    *,
    lines: list[PricedInput],
    currency: str,
    customer_id: str | None,
    codes: list[str],
    promotions: dict[str, Promotion],
    address: dict | None,
    selected_option_id: str | None,
    now: datetime,
) -> Quote:
    quote = Quote(lines=[PricedLine(source=line, base_amount=line.quantity * line.unit_amount) for line in lines])
    if not quote.lines:
        # An update may replace the lines with none: CheckoutSessionUpdateRequest.line_items has no minItems (unlike
        # create's), and a CheckoutSession may have no line items, so the request is valid and the answer is the
        # session with a MessageError, the spec's form for "a valid session with an actionable issue (e.g.
        # not_ready_for_payment)"; a 400 would refuse what the schema allows. The error keeps the session
        # not_ready_for_payment, so complete charges nothing, until items are added.
        quote.messages.append(empty_cart_message())

    # Codes apply in the order given, each on what the previous left, so stacking never goes below 0.
    seen: set[str] = set()
    for index, raw_code in enumerate(codes):
        code = raw_code.strip().upper()
        param = f"$.discounts.codes[{index}]"
        if code in seen:
            quote.rejected_discounts.append(
                {"code": code, "reason": "discount_code_already_applied", "message": "This code is already applied."}
            )
            quote.messages.append(
                message(
                    type="warning",
                    code="discount_code_already_applied",
                    param=param,
                    content="This code is already applied.",
                )
            )
            continue
        seen.add(code)
        promotion = promotions.get(code)
        eligible = [
            line
            for line in quote.lines
            if promotion is None or not promotion.category or line.source.category == promotion.category
        ]
        eligible_base = sum(line.base_amount for line in eligible)
        refusal = _promotion_refusal(
            promotion, customer_id=customer_id, currency=currency, eligible_base=eligible_base, now=now
        )
        if refusal:
            quote.rejected_discounts.append({"code": code, "reason": refusal[0], "message": refusal[1]})
            quote.messages.append(message(type="warning", code=refusal[0], param=param, content=refusal[1]))
            continue
        if promotion.kind == PromotionKind.PERCENT:
            shares = [round_half_up(line.subtotal * promotion.percent_off, 100) for line in eligible]
        else:
            remaining = [line.subtotal for line in eligible]
            shares = _spread(min(promotion.amount_off, sum(remaining)), remaining)
        applied = 0
        allocations = []
        for line, share in zip(eligible, shares, strict=True):
            share = min(share, line.subtotal)
            line.discount += share
            applied += share
            allocations.append({"path": f"$.line_items[{quote.lines.index(line)}]", "amount": share})
        coupon = {"id": f"promo_{promotion.code.lower()}", "name": promotion.description or promotion.code}
        if promotion.kind == PromotionKind.PERCENT:
            coupon["percent_off"] = promotion.percent_off
        else:
            coupon.update(amount_off=promotion.amount_off, currency=promotion.currency)
        applied_discount = {
            "id": f"disc_{promotion.code.lower()}",
            "code": promotion.code,
            "coupon": coupon,
            "amount": applied,
            "method": "across",
            "allocations": allocations,
        }
        if promotion.expires_at:
            applied_discount["end"] = rfc3339(promotion.expires_at)
        quote.applied_discounts.append(applied_discount)

    rate = tax_rate_basis_points(address)
    for line in quote.lines:
        line.tax = round_half_up(line.subtotal * rate, 10000)

    for option in settings.SANDBOX_MERCHANT_SHIPPING_OPTIONS:
        free = option["free_over"] is not None and quote.subtotal >= option["free_over"]
        amount = 0 if free else option["amount"]
        quote.fulfillment_options.append(
            {
                "type": "shipping",
                "id": option["id"],
                "title": option["title"] + (" (free)" if free else ""),
                "carrier": option["carrier"],
                "earliest_delivery_time": rfc3339(now + timedelta(days=option["min_days"])),
                "latest_delivery_time": rfc3339(now + timedelta(days=option["max_days"])),
                "totals": [
                    {"type": "fulfillment", "display_text": "Shipping", "amount": amount},
                    {"type": "total", "display_text": "Total", "amount": amount},
                ],
            }
        )
        if option["id"] == selected_option_id:
            quote.fulfillment_amount = amount
    return quote
