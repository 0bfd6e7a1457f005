"""How amounts read to a person. Amounts are integer minor units; this is the only place they become text."""

from __future__ import annotations

# ISO 4217 minor-unit exponents for the currencies whose exponent is not 2.
_EXPONENTS = {"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3}
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


def minor_unit_exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def format_money(amount: int, currency: str) -> str:
    """12345, "USD" -> "$123.45"; unknown symbols read "123.45 CHF"."""
    exponent = minor_unit_exponent(currency)
    whole, fraction = divmod(int(amount), 10**exponent) if exponent else (int(amount), 0)
    number = f"{whole:,}" + (f".{fraction:0{exponent}d}" if exponent else "")
    symbol = _SYMBOLS.get(currency.upper())
    return f"{symbol}{number}" if symbol else f"{number} {currency.upper()}"
