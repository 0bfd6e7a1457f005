"""The cart: a list of {variant_id, quantity} in the customer's browser session, nothing priced here."""

from __future__ import annotations

from typing import Any

CART_KEY = "shop_cart"
MAX_QUANTITY = 10  # per line, as the shop page offers it
MAX_LINES = 20


class CartError(Exception):
    """A change to the cart that cannot be made; `message` is for the customer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def cart_lines(session: Any) -> list[dict]:
    lines = session.get(CART_KEY) or []
    return [{"variant_id": str(line["variant_id"]), "quantity": int(line["quantity"])} for line in lines]


def cart_quantity(session: Any) -> int:
    return sum(line["quantity"] for line in cart_lines(session))


def _save(session: Any, lines: list[dict]) -> None:
    session[CART_KEY] = lines
    session.modified = True


def cart_add(session: Any, *, variant_id: str, quantity: int) -> list[dict]:
    lines = cart_lines(session)
    for line in lines:
        if line["variant_id"] == variant_id:
            if line["quantity"] + quantity > MAX_QUANTITY:
                raise CartError(f"At most {MAX_QUANTITY} of one item per order.")
            line["quantity"] += quantity
            break
    else:
        if len(lines) >= MAX_LINES:
            raise CartError(f"The cart holds at most {MAX_LINES} different items.")
        lines.append({"variant_id": variant_id, "quantity": quantity})
    _save(session, lines)
    return lines


def cart_set_quantity(session: Any, *, variant_id: str, quantity: int) -> list[dict]:
    """Quantity 0 removes the line."""
    lines = [line for line in cart_lines(session) if line["variant_id"] != variant_id or quantity > 0]
    for line in lines:
        if line["variant_id"] == variant_id:
            line["quantity"] = quantity
    _save(session, lines)
    return lines


def cart_clear(session: Any) -> None:
    _save(session, [])
