"""The one money formatter (consent.formatting): digits, symbols and signs
from CLDR (Babel), the same text on every page and in chat."""

from __future__ import annotations

import pytest

from consent import formatting


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (12345, "usd", "$123.45"),
        (12345, "USD", "$123.45"),
        (5, "usd", "$0.05"),
        (-500, "usd", "-$5.00"),  # a refund or a credit: the sign before the symbol
        (-123456, "gbp", "-£1,234.56"),
        (12345, "eur", "€123.45"),
        (1000, "jpy", "¥1,000"),  # no minor unit
        (1234, "bhd", "1.234 BHD"),  # three decimals; no symbol of its own
        (12345, "chf", "123.45 CHF"),
        (12345, "cad", "CA$123.45"),
        (123456789, "usd", "$1,234,567.89"),
        # more digits than Decimal's default precision (28): an amount a client may send, read back whole
        (172819848565461760696452644864, "usd", "$1,728,198,485,654,617,606,964,526,448.64"),
    ],
)
def test_amounts_read_the_same_everywhere(amount, currency, text):
    assert formatting.format_money(amount, currency) == text


def test_the_minor_unit_comes_from_the_currency():
    assert [formatting.minor_unit_exponent(code) for code in ("usd", "JPY", "bhd", "isk")] == [2, 0, 3, 0]


def test_an_amount_read_again_is_the_same_text_and_costs_no_second_lookup():
    formatting._formatted.cache_clear()
    first = formatting.format_money(4999, "usd")
    again = [formatting.format_money(4999, "USD"), formatting.format_money(4999, "usd")]
    assert again == [first, first] == ["$49.99", "$49.99"]
    info = formatting._formatted.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    # Another amount or currency is another text, never a neighbour's.
    assert formatting.format_money(5000, "usd") == "$50.00"
    assert formatting.format_money(4999, "eur") == "€49.99"
