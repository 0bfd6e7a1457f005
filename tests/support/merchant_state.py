"""The merchant's state as tests of our side read it: through the merchant contract, or the sandbox's
control API (a sandbox extension) for what no contract call offers (listing the orders a shop took).

Never through the sandbox's models: our side knows the shop only over HTTP, and so do these tests.
Everything reads the merchant configured as "sandbox" (the `shop` and `vault` fixtures point it at the
live server), so call these while that configuration is in place. When the in-memory fake merchant stands
in for it (`fake_merchant`, `fake_shop`), the same calls read the fake's state (its `control`).
"""

from __future__ import annotations

from catalog_adapters.contract import CheckoutSession, Order
from catalog_adapters.registry import get_merchant
from ordering.evaluation.catalog import demo_variant
from ordering.evaluation.sandbox_control import SandboxControl, SandboxOrder, SandboxToken

MERCHANT_ID = "sandbox"


def _control():
    merchant = get_merchant(MERCHANT_ID)
    control = getattr(merchant, "control", None)  # the fake merchant's stand-in for the control API
    return control if control is not None else SandboxControl(MERCHANT_ID)


def merchant_orders(*, session_id: str | None = None, customer: str = "") -> list[SandboxOrder]:
    """The orders the shop took (of one checkout session, or one of its customers, or all), newest first."""
    orders = _control().orders(customer=customer)
    return [order for order in orders if session_id is None or order.checkout_session_id == session_id]


def merchant_order_count(*, session_id: str | None = None) -> int:
    return len(merchant_orders(session_id=session_id))


def merchant_order(order_id: str) -> Order:
    """The order as the shop reports it through the contract (status, totals, adjustments)."""
    return get_merchant(MERCHANT_ID).orders.get(order_id=order_id)


def session_order(session_id: str) -> Order:
    """The one order of a checkout session, read through the contract (AssertionError when not exactly one)."""
    [placed] = merchant_orders(session_id=session_id)
    return merchant_order(placed.id)


def checkout_session(session_id: str) -> CheckoutSession:
    return get_merchant(MERCHANT_ID).checkout.get(session_id=session_id)


def session_status(session_id: str) -> str:
    return checkout_session(session_id).status


def merchant_tokens(*, session_id: str | None = None) -> list[SandboxToken]:
    """The payment tokens delegated for a checkout session (or all), oldest first: spent? revoked?"""
    return _control().tokens(checkout_session_id=session_id or "")


def merchant_token(session_id: str) -> SandboxToken:
    """The one token delegated for a checkout session (AssertionError when not exactly one)."""
    [token] = merchant_tokens(session_id=session_id)
    return token


def available(variant_id: str) -> int:
    """Units of a demo variant the shop offers now (stock less live holds), read through the contract."""
    product, _ = demo_variant(variant_id)
    served = get_merchant(MERCHANT_ID).catalog.get_product(product_id=product.id)
    return next(variant.available for variant in served.variants if variant.id == variant_id)


def only_order() -> Order:
    """The one order the shop took (AssertionError when it took none or several), through the contract."""
    [placed] = merchant_orders()
    return merchant_order(placed.id)


def cancellations(order: Order) -> list:
    """The order's cancellation adjustments (ACP adjustment type "cancellation"; the sandbox's "cancel")."""
    return [adjustment for adjustment in order.adjustments if adjustment.type.startswith("cancel")]
