"""The sandbox's control API: a sandbox extension, not part of ACP (docs/sandbox-merchant.md, "Control API").

What a test harness or the conversation evaluation asks of the sandbox shop that no real merchant
offers: put it back to its demo state, set a variant's stock, list the orders it took with the card
each one charged, and the payment tokens delegated to it (spent or revoked). Served next to the fault
switchboard under `sandbox/`, with the same protocol as every other sandbox endpoint (bearer token,
API-Version, an Idempotency-Key on POST), only while the sandbox is enabled (`SANDBOX_MERCHANT_ENABLED`),
and never subject to injected faults.

    POST sandbox/reset   {"full": false}           -> 200 {"canceled_sessions": n, "faults_cleared": n, "full": bool}
    POST sandbox/stock   {"stock": {variant: n}}    -> 200 {"stock": {variant: n}}  (404 for an unknown variant)
    GET  sandbox/orders  [?customer=cus_alice]      -> 200 {"data": [{id, checkout_session_id, customer,
                                                            status, currency, total, payment}]}, newest first
    GET  sandbox/tokens  [?checkout_session_id=cs_…] -> 200 {"data": [{id, checkout_session_id, vault_reference,
                                                            max_amount, currency, used, revoked}]}, oldest first
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.db import transaction
from django.db.models import Case, Value, When
from django.urls import path
from django.utils import timezone

from sandbox_merchant import api, demo
from sandbox_merchant.errors import InvalidRequest, NotFound, SandboxError
from sandbox_merchant.models import Order, SavedItem, Variant, VaultToken
from sandbox_merchant.selectors import live_reservations
from sandbox_merchant.services import checkout_session_cancel, fault_rules_clear
from sandbox_merchant.wire import COUNT_MAX


def sandbox_reset(*, full: bool = False) -> dict:
    """The shop as the demo seeds it: no open sessions holding stock, no fault rules, the demo stock and
    prices, and exactly the demo's saved items. `full` runs the whole demo seed (about a second on
    PostgreSQL); otherwise only what an order or a test can change is put back, in one transaction."""
    canceled = 0
    for session_id in set(live_reservations(now=timezone.now()).values_list("session_id", flat=True)):
        with contextlib.suppress(SandboxError):
            checkout_session_cancel(session_id=session_id)
            canceled += 1
    faults = fault_rules_clear()
    if full:
        demo.demo_data_seed()
    else:
        _demo_stock_prices_and_saved_items_put_back()
    return {"canceled_sessions": canceled, "faults_cleared": faults, "full": full}


def _demo_stock_prices_and_saved_items_put_back() -> None:
    """What an order or a test changes, put back in a few statements (one transaction): every demo variant's stock
    and price, and exactly the demo's saved items, dated as the demo seed dates them."""
    now = timezone.now()
    with transaction.atomic():
        by_product = {f"prod_{slug}": (stock, price) for slug, _t, _c, _b, price, _co, _s, stock, _d in demo.PRODUCTS}
        Variant.objects.filter(product_id__in=by_product).update(
            stock=Case(*(When(product_id=product, then=Value(stock)) for product, (stock, _) in by_product.items())),
            price_amount=Case(
                *(When(product_id=product, then=Value(price)) for product, (_, price) in by_product.items())
            ),
        )
        wanted = {
            (customer_id, str(kind), f"prod_{slug}"): (variant, now - timedelta(days=days_ago))
            for customer_id, kind, slug, variant, days_ago in demo.SAVED_ITEMS
        }
        kept = []
        for item in SavedItem.objects.select_for_update():
            key = (item.customer_id, item.kind, item.product_id)
            if key in wanted:
                item.variant_id, item.saved_at = wanted.pop(key)
                kept.append(item)
        SavedItem.objects.exclude(pk__in=[item.pk for item in kept]).delete()
        SavedItem.objects.bulk_update(kept, ["variant_id", "saved_at"])
        SavedItem.objects.bulk_create(
            SavedItem(customer_id=customer, kind=kind, product_id=product, variant_id=variant, saved_at=saved_at)
            for (customer, kind, product), (variant, saved_at) in wanted.items()
        )


def stock_set(*, stock: dict[str, int]) -> dict[str, int]:
    """Put variants' stock on hand at these levels (all or none: an unknown variant changes nothing)."""
    with transaction.atomic():
        for variant_id, units in stock.items():
            if not Variant.objects.filter(id=variant_id).update(stock=units):
                raise NotFound(f"The shop has no variant {variant_id!r}.", param="stock")
    return stock


def orders_list(*, customer_id: str = "") -> list[dict]:
    orders = Order.objects.select_related("payment_token__card", "session").order_by("-created_at")
    if customer_id:
        orders = orders.filter(customer_id=customer_id)
    return [
        {
            "id": order.id,
            "checkout_session_id": order.session_id,
            "customer": order.customer_id,
            "status": order.status,
            "currency": order.currency,
            "total": order.total_amount,
            "payment": {
                "vault_reference": order.payment_token.card.reference,
                "brand": order.payment_token.card.brand,
                "last4": order.payment_token.card.last4,
            },
        }
        for order in orders
    ]


def tokens_list(*, checkout_session_id: str = "") -> list[dict]:
    """The delegated payment tokens (never a card number), and whether each was spent or revoked."""
    tokens = VaultToken.objects.select_related("card").order_by("created_at")
    if checkout_session_id:
        tokens = tokens.filter(checkout_session_id=checkout_session_id)
    return [
        {
            "id": token.id,
            "checkout_session_id": token.checkout_session_id,
            "vault_reference": token.card.reference,
            "max_amount": token.max_amount,
            "currency": token.currency,
            "used": token.used_at is not None,
            "revoked": token.revoked_at is not None,
        }
        for token in tokens
    ]


# -- HTTP ---------------------------------------------------------------------------------------------


def _reset(call: api.Call) -> tuple[int, dict]:
    full = call.body.get("full", False)
    if not isinstance(full, bool):
        raise InvalidRequest("full must be true or false.", param="full")
    return 200, sandbox_reset(full=full)


def _stock(call: api.Call) -> tuple[int, dict]:
    stock = call.body.get("stock")
    if not isinstance(stock, dict) or not stock:
        raise InvalidRequest("stock must be an object of variant id to units.", param="stock")
    for variant_id, units in stock.items():
        if not isinstance(units, int) or isinstance(units, bool) or not 0 <= units <= COUNT_MAX:
            raise InvalidRequest(
                f"stock[{variant_id!r}] must be a whole number of units from 0 to {COUNT_MAX}.", param="stock"
            )
    return 200, {"stock": stock_set(stock=stock)}


def _orders(call: api.Call) -> tuple[int, dict]:
    return 200, {"data": orders_list(customer_id=call.request.GET.get("customer", ""))}


def _tokens(call: api.Call) -> tuple[int, dict]:
    return 200, {"data": tokens_list(checkout_session_id=call.request.GET.get("checkout_session_id", ""))}


urlpatterns = [
    path("reset", api.route(faultable=False, POST=("control", _reset)), name="control-reset"),
    path("stock", api.route(faultable=False, POST=("control", _stock)), name="control-stock"),
    path("orders", api.route(faultable=False, GET=("control", _orders)), name="control-orders"),
    path("tokens", api.route(faultable=False, GET=("control", _tokens)), name="control-tokens"),
]
