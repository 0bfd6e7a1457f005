"""Showing money to people: the project's one formatter lives in consent.formatting (see it); this keeps the
import path ordering's modules use. Amounts are always the merchant's integer minor units; nothing here
computes a price."""

from __future__ import annotations

from consent.formatting import format_money, minor_unit_exponent

__all__ = ["format_money", "minor_unit_exponent"]
