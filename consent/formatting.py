"""How amounts read to a person: the project's one money formatter (import it from here).

Amounts are the merchant's integer minor units; this turns them into text and computes nothing. Babel
(CLDR data) knows each ISO 4217 currency's minor unit (2 for USD, 0 for JPY, 3 for BHD) and symbol, so
negatives, symbols and digits agree everywhere: 12345 USD reads "$123.45", -500 USD "-$5.00", 1000 JPY
"¥1,000". A currency whose only symbol is its code reads "123.45 CHF" (code after the number).
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision, get_currency_symbol

LOCALE = "en_US"


@lru_cache(maxsize=64)
def minor_unit_exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit has (2 for USD, 0 for JPY, 3 for BHD)."""
    return get_currency_precision(currency.upper())


@lru_cache(maxsize=64)
def _pattern(currency: str) -> str | None:
    # CLDR's en_US pattern puts the symbol first ("$123.45", "CA$123.45"); a bare code reads better after.
    return "#,##0.00 ¤" if get_currency_symbol(currency, locale=LOCALE) == currency else None


def format_money(amount: int, currency: str) -> str:
    """12345, "usd" -> "$123.45"; -500, "USD" -> "-$5.00"; 12345, "CHF" -> "123.45 CHF"."""
    return _formatted(int(amount), currency.upper())


# A turn formats the same few amounts several times (lines, totals, the preview's text and its card), and
# Babel's format_currency looks its CLDR data up on every call: ~0.1 ms each. The text depends only on these
# two values, so it is kept.
@lru_cache(maxsize=4096)
def _formatted(amount: int, code: str) -> str:
    # Every digit kept: Decimal's default 28 would round a longer amount, and Babel would refuse it (InvalidOperation).
    with localcontext() as context:
        context.prec = max(context.prec, len(str(abs(int(amount)))) + 4)
        value = Decimal(int(amount)).scaleb(-minor_unit_exponent(code))
        return format_currency(value, code, format=_pattern(code), locale=LOCALE, currency_digits=True)
