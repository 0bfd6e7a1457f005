"""The pricing rules engine on its own (pure functions: no database, no HTTP)."""

from datetime import UTC, datetime, timedelta

from sandbox_merchant.models import Promotion, PromotionKind
from sandbox_merchant.pricing import PricedInput, quote_lines, round_half_up, tax_rate_basis_points

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CA = {"country": "US", "state": "CA", "postal_code": "94105", "city": "SF", "line_one": "1 Market"}


def _line(variant_id="var_a", unit_amount=1000, quantity=1, category="shoes") -> PricedInput:
    return PricedInput(
        line_id=f"li_{variant_id}",
        variant_id=variant_id,
        product_id="prod",
        title="T",
        category=category,
        colour="",
        size="",
        quantity=quantity,
        unit_amount=unit_amount,
    )


def _quote(lines, promotions=(), codes=(), address=None, option=None, customer_id=None):
    return quote_lines(
        lines=list(lines),
        currency="usd",
        customer_id=customer_id,
        codes=list(codes),
        promotions={promotion.code: promotion for promotion in promotions},
        address=address,
        selected_option_id=option,
        now=NOW,
    )


def test_rounding_is_half_up_in_minor_units():
    assert [round_half_up(n, 100) for n in (49, 50, 149, 150)] == [0, 1, 1, 2]


def test_tax_rate_by_state_then_country_then_none():
    assert tax_rate_basis_points(CA) == 725
    assert tax_rate_basis_points({"country": "us", "state": "TX"}) == 600
    assert tax_rate_basis_points({"country": "JP"}) == 0
    assert tax_rate_basis_points(None) == 0


def test_a_promotion_not_started_or_in_another_currency_is_refused():
    later = Promotion(
        code="LATER", description="", kind=PromotionKind.PERCENT, percent_off=10, starts_at=NOW + timedelta(days=1)
    )
    euros = Promotion(code="EUR5", description="", kind=PromotionKind.AMOUNT, amount_off=500, currency="eur")

    quote = _quote([_line()], [later, euros], ["later", "eur5"])

    assert quote.applied_discounts == []
    assert [(m["code"], m["param"]) for m in quote.messages] == [
        ("discount_code_invalid", "$.discounts.codes[0]"),
        ("discount_code_invalid", "$.discounts.codes[1]"),
    ]
    assert [d["reason"] for d in quote.rejected_discounts] == ["discount_code_invalid"] * 2


def test_stacked_discounts_never_take_a_line_below_zero_and_a_code_counts_once():
    everything = Promotion(code="ALL", description="", kind=PromotionKind.PERCENT, percent_off=100)
    ten = Promotion(code="TEN", description="", kind=PromotionKind.AMOUNT, amount_off=1000)

    quote = _quote([_line(unit_amount=800)], [everything, ten], ["ALL", "TEN", "all"])

    assert quote.lines[0].discount == 800
    assert quote.subtotal == 0
    assert [d["amount"] for d in quote.applied_discounts] == [800, 0]
    assert quote.rejected_discounts == [
        {"code": "ALL", "reason": "discount_code_already_applied", "message": "This code is already applied."}
    ]


def test_free_standard_shipping_from_the_threshold_on_the_discounted_subtotal():
    half = Promotion(code="HALF", description="", kind=PromotionKind.PERCENT, percent_off=50)

    at_threshold = _quote([_line(unit_amount=5000)], option="ship_standard")
    discounted_below = _quote([_line(unit_amount=5000)], [half], ["HALF"], option="ship_standard")

    assert at_threshold.fulfillment_amount == 0
    assert discounted_below.fulfillment_amount == 599
    assert discounted_below.total == 2500 + 599


def test_totals_add_up():
    quote = _quote([_line(unit_amount=1999, quantity=3)], address=CA, option="ship_express")

    totals = {item["type"]: item["amount"] for item in quote.totals()}
    assert totals["items_base_amount"] == 5997
    assert totals["tax"] == round_half_up(5997 * 725, 10000) == 435
    assert totals["total"] == totals["subtotal"] + totals["fulfillment"] + totals["tax"] == 5997 + 1499 + 435
