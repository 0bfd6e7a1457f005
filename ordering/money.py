"""Showing money to people. Amounts are always the merchant's integer minor units; nothing here computes a price."""

from __future__ import annotations

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}
# ISO 4217 currencies whose minor unit is not a hundredth.
_EXPONENTS = {"jpy": 0, "krw": 0, "vnd": 0, "clp": 0, "isk": 0, "bhd": 3, "kwd": 3, "omr": 3, "jod": 3, "tnd": 3}


def minor_unit_exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit has (2 for USD, 0 for JPY)."""
    return _EXPONENTS.get(currency.lower(), 2)


def format_money(amount: int, currency: str) -> str:
    currency = currency.lower()
    exponent = minor_unit_exponent(currency)
    sign = "-" if amount < 0 else ""
    units, minor = divmod(abs(amount), 10**exponent)
    number = f"{units:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency.upper()}"
