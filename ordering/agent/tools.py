"""The tools: everything a planner (the deterministic parser or a language model) can do.

A tool takes validated JSON arguments and answers a `ToolResult`: `data` is facts for the planner
(JSON-safe, never instructions; merchant text in it is quoted data), `say` is text rendered here,
by server code, for the customer (every amount comes from the merchant's session). **No tool places
an order**: placement happens only through the confirm endpoint, a typed confirmation recognized by
`ordering.agent.pipeline`, or an auto-checkout grant, all outside the planner's reach.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from catalog_adapters.contract import Product
from catalog_adapters.errors import MerchantError, MerchantIdInvalid
from catalog_adapters.registry import get_merchant
from consent.exceptions import ConsentDenied, SpendCapExceeded
from consent.selectors import (
    addresses_for_customer,
    order_placement_check,
    payment_methods_for_customer,
)
from ordering.agent import merchant as shop
from ordering.agent import metrics as agent_metrics
from ordering.agent.state import MAX_QUANTITY, SHIPPING_OPTIONS, cart_reset
from ordering.errors import FlowNotConfirmable, OrderingError, PreviewIncomplete
from ordering.holds import PREVIEW_BLOCKED, flow_hold_release, flow_hold_was_released
from ordering.hooks import PersonNeeded, person_needed
from ordering.models import EscalationReason, FlowStatus, OrderFlow
from ordering.money import format_money
from ordering.preview import preview_text
from ordering.selectors import order_latest_for_customer, orders_for_customer, preview_public
from ordering.services import conversation_mark_escalated, flow_cancel, flow_order_cancel, flow_preview

if TYPE_CHECKING:
    from ordering.agent.turn import Turn


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict  # JSON Schema of the arguments
    handler: Callable[[Turn, dict], ToolResult]


@dataclass
class ToolCall:
    name: str
    arguments: dict
    rationale: str = ""


@dataclass
class ToolResult:
    ok: bool
    data: dict  # JSON-safe facts for the model, never instructions
    say: str | None = None  # server-rendered text for the customer
    error: str | None = None
    # Structured content for the customer's message when `say` is posted (product cards, the preview).
    message_data: dict | None = field(default=None, repr=False)
    # The shop failed to answer (catalog_adapters' error class): counted as a failure of the tool's step
    # (ordering_turn_step_failures_total). Not for the model: `data` says what it needs.
    shop_error_class: str | None = field(default=None, repr=False)


def _failed(error: str, **data: Any) -> ToolResult:
    return ToolResult(ok=False, data=data, error=error)


def _merchant_failed(error: MerchantError) -> ToolResult:
    if isinstance(error, MerchantIdInvalid):
        # An id from the customer or the model that no shop uses: refused before anything was sent.
        return _failed(
            "That is not an id the shop uses (only letters, digits, '_' and '-'); nothing was looked up.",
            error_class=error.error_class,
            code=error.code,
        )
    result = _failed("The shop did not answer properly; please try again in a moment.", error_class=error.error_class)
    result.shop_error_class = error.error_class
    return result


# -- representations (data for planners, cards for the widget) -----------------------------------


def _product_data(product: Product, *, with_description: bool = False) -> dict[str, Any]:
    data = {
        "product_id": product.id,
        "title": product.title[:120],
        "category": product.category,
        "brand": product.brand,
        "price": product.price.amount,
        "currency": product.price.currency,
        "price_display": format_money(product.price.amount, product.price.currency),
        "colours": sorted({variant.colour for variant in product.variants if variant.colour}),
        "sizes_available": [variant.size for variant in product.variants if variant.size and variant.available > 0],
    }
    if with_description:
        # Catalog text is data to show, quoted; nothing in it is ever followed.
        data["description"] = product.description[:300]
        data["variants"] = [
            {
                "variant_id": variant.id,
                "colour": variant.colour,
                "size": variant.size,
                "available": variant.available,
                "price": variant.price.amount,
            }
            for variant in product.variants[:30]
        ]
    return data


def product_card(product: Product, *, variant_id: str | None = None) -> dict[str, Any]:
    variant = next((v for v in product.variants if v.id == variant_id), None)
    price = variant.price if variant else product.price
    return {
        "type": "product",
        "product_id": product.id,
        "title": product.title[:120],
        "image_url": product.image_url,
        "price": price.amount,
        "currency": price.currency,
        "price_display": format_money(price.amount, price.currency),
        "variant": ", ".join(part for part in ((variant.colour, variant.size) if variant else ()) if part),
    }


def _cart_data(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "variant_id": line["variant_id"],
            "title": line["title"],
            "variant": line["variant"],
            "quantity": line["quantity"],
        }
        for line in state["cart"]
    ]


def _session_facts(session) -> dict[str, Any]:
    if session is None:
        return {}
    return {
        "session_status": session.status,
        "merchant_messages": [{"type": m.type, "code": m.code, "content": m.content[:200]} for m in session.messages][
            :5
        ],
        "applied_codes": [applied.code for applied in session.applied_discounts],
    }


# -- catalog ---------------------------------------------------------------------------------------


def _product_get(turn: Turn, product_id: str) -> Product:
    """One fetch per product per turn: the policy and the cart tools share what the shop answered."""
    cache = turn.products
    if product_id not in cache:
        cache[product_id] = get_merchant(shop.merchant_id_default()).catalog.get_product(product_id=product_id)
    return cache[product_id]


def search_products(turn: Turn, args: dict) -> ToolResult:
    price_filtered = args.get("price_min") is not None or args.get("price_max") is not None
    sort = args.get("sort", "relevance")
    limit = args.get("limit", 5)
    try:
        products = get_merchant(shop.merchant_id_default()).catalog.search_products(
            query=args.get("query", ""),
            colour=args.get("colour") or None,
            size=args.get("size") or None,
            category=args.get("category") or None,
            # The merchant's search knows no prices: filter and sort a wider page here.
            limit=100 if (price_filtered or sort != "relevance" or args.get("product_ids")) else limit,
        )
    except MerchantError as error:
        return _merchant_failed(error)
    if args.get("product_ids"):
        wanted = list(args["product_ids"])
        products = sorted((p for p in products if p.id in wanted), key=lambda p: wanted.index(p.id))
    if args.get("price_min") is not None:
        products = [p for p in products if p.price.amount >= args["price_min"]]
    if args.get("price_max") is not None:
        products = [p for p in products if p.price.amount <= args["price_max"]]
    if sort == "price_asc":
        products = sorted(products, key=lambda p: (p.price.amount, p.title))
    elif sort == "price_desc":
        products = sorted(products, key=lambda p: (-p.price.amount, p.title))
    products = products[:limit]
    for product in products:
        turn.products.setdefault(product.id, product)
    say = None
    if products:
        listed = ", ".join(f"{p.title[:60]} ({format_money(p.price.amount, p.price.currency)})" for p in products[:6])
        say = f"Here is what I found: {listed}."
    return ToolResult(
        ok=True,
        data={"products": [_product_data(product) for product in products], "count": len(products)},
        say=say,
        message_data={
            "kind": "products",
            "cards": [product_card(product) for product in products[:6]],
            "quick_replies": [{"label": p.title[:60], "text": f"I'll take the {p.title[:60]}"} for p in products[:4]],
        },
    )


def _product_or_failure(turn: Turn, product_id: str) -> Product | ToolResult:
    try:
        return _product_get(turn, product_id)
    except MerchantError as error:
        if getattr(error, "status", None) == 404 or isinstance(error, MerchantIdInvalid):
            return _failed("No such product.", product_id=product_id)
        return _merchant_failed(error)


def show_product(turn: Turn, args: dict) -> ToolResult:
    product = _product_or_failure(turn, args["product_id"])
    if isinstance(product, ToolResult):
        return product
    return ToolResult(
        ok=True,
        data={"product": _product_data(product, with_description=True)},
        say=f"{product.title[:120]}: {format_money(product.price.amount, product.price.currency)}.",
        message_data={"cards": [product_card(product)]},
    )


def list_saved_items(turn: Turn, args: dict) -> ToolResult:
    merchant_id = shop.merchant_id_default()
    account = turn.merchant_account(merchant_id)
    customer_ref = account.customer_ref if account and account.customer_ref else None
    if customer_ref is None:
        return ToolResult(ok=True, data={"items": [], "note": "no account at this shop is linked"})
    since = timezone.now() - timedelta(days=args["since_days"]) if args.get("since_days") else None
    try:
        # One call with the products (or, at a merchant without that extension, the saved items and then
        # each product not fetched yet this turn). Only the products the customer named, however long
        # their history: never the newest of something else.
        saved = get_merchant(merchant_id).catalog.list_saved_products(
            customer_id=customer_ref,
            kind=args["kind"],
            since=since,
            product_ids=args.get("product_ids") or None,
            limit=10,
            known_products=turn.products,
        )
    except MerchantError as error:
        return _merchant_failed(error)
    items = []
    for entry in saved:
        item, product = entry.item, turn.products.setdefault(entry.product.id, entry.product)
        items.append(
            {
                "kind": item.kind,
                "product_id": item.product_id,
                "variant_id": item.variant_id,
                "saved_at": item.saved_at.isoformat() if item.saved_at else None,
                "title": product.title[:120],
                "category": product.category,
                "colours": sorted({v.colour for v in product.variants if v.colour}),
            }
        )
    return ToolResult(ok=True, data={"items": items, "count": len(items)})


# -- the cart --------------------------------------------------------------------------------------


def _sync(turn: Turn, before: dict[str, Any]) -> ToolResult | Any:
    """Send the cart; when the merchant refuses or fails, the cart is put back as it was (`before`)."""
    try:
        # No transaction around it: the merchant is called here, and a lock must never wait on a foreign call.
        flow, session = shop.cart_sync(
            conversation=turn.conversation, state=turn.state, flow=turn.cart_flow(), buyer=turn.buyer()
        )
    except (MerchantError, OrderingError) as error:
        # The session may have changed at the shop anyway (an unknown outcome): a preview reads it afresh.
        turn.checkout_sessions.clear()
        version = turn.state["cart_version"]
        turn.state.clear()
        turn.state.update(before, cart_version=version)  # never reuse an operation id for another body
        turn.save_state()
        if isinstance(error, MerchantError):
            return _merchant_failed(error)
        return _failed(error.message)
    if flow is not None:
        turn.state["released"] = None  # the cart holds stock again, under a session of its own
    turn.save_state()
    turn.cart_flow_written(flow)
    turn.checkout_sessions.clear()
    if session is not None:
        turn.checkout_sessions[session.id] = session
    # Products fetched earlier in this turn predate these reservations: remember what changed since.
    held_before = {line["variant_id"]: line["quantity"] for line in before.get("cart", [])}
    for line in turn.state["cart"]:
        delta = line["quantity"] - held_before.pop(line["variant_id"], 0)
        turn.reserved_since_fetch[line["variant_id"]] = turn.reserved_since_fetch.get(line["variant_id"], 0) + delta
    for variant_id, quantity in held_before.items():
        turn.reserved_since_fetch[variant_id] = turn.reserved_since_fetch.get(variant_id, 0) - quantity
    return session


def _snapshot(turn: Turn) -> dict[str, Any]:
    return copy.deepcopy(turn.state)


def _fresh_cart(turn: Turn) -> None:
    """Start a new cart when the previous one became an order (or was stopped)."""
    if turn.state["flow_id"] and turn.cart_flow() is None:
        cart_reset(turn.state)


def add_to_cart(turn: Turn, args: dict) -> ToolResult:
    before = _snapshot(turn)
    _fresh_cart(turn)
    try:
        product = _product_get(turn, args["product_id"])
    except MerchantError as error:
        return _merchant_failed(error)
    variant = next((v for v in product.variants if v.id == args["variant_id"]), None)
    if variant is None:
        return _failed("That variant does not belong to that product.", product_id=product.id)
    if variant.available < args["quantity"]:
        return _failed("Not enough in stock.", available=variant.available, variant_id=variant.id)
    existing = next((line for line in turn.state["cart"] if line["variant_id"] == variant.id), None)
    if existing is not None:
        # The shop's `available` already leaves out what this cart holds: only the extra units must be there.
        if existing["quantity"] + args["quantity"] > MAX_QUANTITY or args["quantity"] > variant.available:
            # Never clamped: the customer is told what is possible instead (ordering.agent.policy).
            return _failed("Not enough in stock.", available=variant.available, variant_id=variant.id)
        existing["quantity"] += args["quantity"]
    else:
        turn.state["cart"].append(_cart_line(product, variant, args["quantity"]))
    session = _sync(turn, before)
    if isinstance(session, ToolResult):
        return session
    return ToolResult(
        ok=True,
        data={"cart": _cart_data(turn.state), **_session_facts(session)},
        message_data={"cards": [product_card(product, variant_id=variant.id)]},
    )


def _cart_line(product: Product, variant, quantity: int) -> dict[str, Any]:
    return {
        "variant_id": variant.id,
        "product_id": product.id,
        "title": product.title[:120],
        "variant": ", ".join(part for part in (variant.colour, variant.size) if part),
        "colour": variant.colour,
        "size": variant.size or None,
        "quantity": quantity,
        "currency": variant.price.currency,
    }


def update_cart_line(turn: Turn, args: dict) -> ToolResult:
    """A new quantity for a line, or the line changed to another variant (or product) in the same place."""
    before = _snapshot(turn)
    index = next((i for i, line in enumerate(turn.state["cart"]) if line["variant_id"] == args["variant_id"]), None)
    if index is None:
        return _failed("That item is not in the cart.", cart=_cart_data(turn.state))
    line = turn.state["cart"][index]
    quantity = args.get("quantity", line["quantity"])
    if args.get("new_variant_id"):
        try:
            product = _product_get(turn, args.get("product_id") or line["product_id"])
        except MerchantError as error:
            return _merchant_failed(error)
        variant = next((v for v in product.variants if v.id == args["new_variant_id"]), None)
        if variant is None:
            return _failed("That variant does not belong to that product.", product_id=product.id)
        if variant.available < quantity:
            return _failed("Not enough in stock.", available=variant.available, variant_id=variant.id)
        if any(other["variant_id"] == variant.id for other in turn.state["cart"] if other is not line):
            turn.state["cart"] = [other for other in turn.state["cart"] if other is not line]
            merged = next(other for other in turn.state["cart"] if other["variant_id"] == variant.id)
            merged["quantity"] += quantity
        else:
            turn.state["cart"][index] = _cart_line(product, variant, quantity)
    else:
        line["quantity"] = quantity
    session = _sync(turn, before)
    if isinstance(session, ToolResult):
        return session
    return ToolResult(ok=True, data={"cart": _cart_data(turn.state), **_session_facts(session)})


def remove_from_cart(turn: Turn, args: dict) -> ToolResult:
    before = _snapshot(turn)
    count = len(turn.state["cart"])
    turn.state["cart"] = [line for line in turn.state["cart"] if line["variant_id"] != args["variant_id"]]
    if len(turn.state["cart"]) == count:
        return _failed("That item is not in the cart.", cart=_cart_data(turn.state))
    session = _sync(turn, before)
    if isinstance(session, ToolResult):
        return session
    return ToolResult(ok=True, data={"cart": _cart_data(turn.state), **_session_facts(session)})


def sync_cart(turn: Turn, args: dict) -> ToolResult:
    """Send the cart as it stands (after a refused code was taken off)."""
    before = _snapshot(turn)
    if not turn.state["cart"]:
        return ToolResult(ok=True, data={"cart": []})
    session = _sync(turn, before)
    if isinstance(session, ToolResult):
        return session
    return ToolResult(ok=True, data={"cart": _cart_data(turn.state), **_session_facts(session)})


def list_my_promotions(turn: Turn, args: dict) -> ToolResult:
    try:
        promotions = shop.promotions_for_customer(customer_id=turn.customer_id, merchant_id=shop.merchant_id_default())
    except MerchantError as error:
        return _merchant_failed(error)
    return ToolResult(
        ok=True,
        data={
            "promotions": [
                {
                    "code": promotion.code,
                    "description": promotion.description,
                    "kind": promotion.kind,
                    "percent_off": promotion.percent_off,
                    "amount_off": promotion.amount_off,
                }
                for promotion in promotions[:10]
            ]
        },
    )


def apply_promo(turn: Turn, args: dict) -> ToolResult:
    before = _snapshot(turn)
    _fresh_cart(turn)
    code = args["code"].strip().upper()
    if code not in turn.state["promo_codes"]:
        turn.state["promo_codes"].append(code)
    if not turn.state["cart"]:
        turn.save_state()
        return ToolResult(ok=True, data={"code": code, "applied": None, "note": "applied when the cart has items"})
    session = _sync(turn, before)
    if isinstance(session, ToolResult):
        return session
    applied = any(applied.code.upper() == code for applied in session.applied_discounts)
    if not applied:
        # The merchant refused it (unknown, expired, minimum not met): do not keep sending it.
        turn.state["promo_codes"] = [c for c in turn.state["promo_codes"] if c != code]
        resent = _sync(turn, before)
        if isinstance(resent, ToolResult):
            return resent
        rejected = next((r for r in session.rejected_discounts if r.code.upper() == code), None)
        reason = (rejected.message or rejected.reason.replace("_", " "))[:200] if rejected else ""
        reason = reason or next(
            (m.content[:200] for m in session.messages if code.lower() in m.content.lower()),
            next(
                (m.content[:200] for m in session.messages if m.code.startswith(("coupon", "discount", "minimum"))), ""
            ),
        )
        return _failed(f"The shop did not accept the code {code}.", code=code, applied=False, merchant_reason=reason)
    return ToolResult(ok=True, data={"code": code, "applied": True, **_session_facts(session)})


def choose_shipping(turn: Turn, args: dict) -> ToolResult:
    before = _snapshot(turn)
    _fresh_cart(turn)
    turn.state["shipping"] = SHIPPING_OPTIONS[args["option"]]
    if not turn.state["cart"]:
        turn.save_state()
        return ToolResult(ok=True, data={"shipping": args["option"]})
    session = _sync(turn, before)
    if isinstance(session, ToolResult):
        return session
    return ToolResult(ok=True, data={"shipping": args["option"], **_session_facts(session)})


def choose_address(turn: Turn, args: dict) -> ToolResult:
    before = _snapshot(turn)
    addresses = addresses_for_customer(user_id=turn.customer_id)
    if args.get("address_id") is not None:
        address = addresses.filter(pk=args["address_id"]).first()
    else:
        address = addresses.filter(label__iexact=(args.get("label") or "").strip()).first()
    if address is None:
        return _failed(
            "No saved address like that.", saved=[{"address_id": a.pk, "label": a.label} for a in addresses[:10]]
        )
    _fresh_cart(turn)
    turn.state["address_id"] = address.pk
    if not turn.state["cart"]:
        turn.save_state()
        return ToolResult(ok=True, data={"address": address.label})
    session = _sync(turn, before)
    if isinstance(session, ToolResult):
        return session
    return ToolResult(ok=True, data={"address": address.label, **_session_facts(session)})


def choose_payment_method(turn: Turn, args: dict) -> ToolResult:
    methods = payment_methods_for_customer(user_id=turn.customer_id)
    saved = [{"payment_method_id": m.pk, "brand": m.brand, "last4": m.last4} for m in methods[:10]]
    if args.get("payment_method_id") is not None:
        matching = list(methods.filter(pk=args["payment_method_id"]))
    elif args.get("last4"):
        matching = list(methods.filter(last4=args["last4"].strip()))
    else:
        matching = list(methods.filter(brand__iexact=(args.get("brand") or "").strip()))
    if len(matching) > 1:
        candidates = [{"payment_method_id": m.pk, "brand": m.brand, "last4": m.last4} for m in matching[:10]]
        return _failed("Several saved cards match.", saved=saved, ambiguous=True, matching=candidates)
    if not matching:
        return _failed("No saved card like that.", saved=saved, ambiguous=False)
    method = matching[0]
    # The card is not sent to the shop before payment; the next preview shows it (and replaces an older one).
    turn.state["payment_method_id"] = method.pk
    turn.save_state()
    return ToolResult(ok=True, data={"payment": {"brand": method.brand, "last4": method.last4}})


# -- preview, status, cancel, hand-over ----------------------------------------------------------


def cart_released_noted(turn: Turn) -> bool:
    """When the cart's flow ended because its stock hold was released (ordering/holds.py), the cart keeps its
    lines without a flow and remembers why (`released`), so the next change or preview opens a fresh session.
    True when it did; any other ended flow is left to the caller."""
    flow_id = turn.state.get("flow_id")
    if not flow_id or not turn.state["cart"] or turn.cart_flow() is not None:
        return False
    flow = OrderFlow.objects.filter(pk=flow_id, conversation=turn.conversation).first()
    if flow is None or not flow_hold_was_released(flow):
        return False
    turn.state.update(
        flow_id=None, shown_preview_hash="", released={"flow_id": str(flow.pk), "reason": flow.failure_code}
    )
    turn.save_state()
    return True


def preview_order(turn: Turn, args: dict) -> ToolResult:
    flow = turn.cart_flow()
    if flow is None:
        cart_released_noted(turn)  # released while this turn ran
    if flow is None and turn.state["cart"] and not turn.state["flow_id"]:
        # The cart's stock hold was released (a blocked preview, an idle chat, the customer's limit of open
        # carts): a fresh session reserves the items again, unless what blocked it still stands.
        reopened = _reopen_released_cart(turn)
        if isinstance(reopened, ToolResult):
            return reopened
        flow = reopened
    if flow is None or not turn.state["cart"]:
        return _failed("The cart is empty; there is nothing to preview.")
    payment_method_id = turn.state["payment_method_id"] or getattr(turn.payment_method_default(), "pk", None)
    address = turn.shipping_address()
    if payment_method_id is None or address is None:
        return _failed("A saved card and a saved address are needed; add them on the settings page.")
    try:
        # The shop's answer to this turn's cart change is its latest word on the session: no second read.
        session = turn.checkout_sessions.get(flow.checkout_session_id) or get_merchant(flow.merchant_id).checkout.get(
            session_id=flow.checkout_session_id
        )
        flow = flow_preview(
            flow_id=flow.pk,
            customer_id=turn.customer_id,
            session=session,
            payment_method_id=payment_method_id,
            address_id=address.pk,
            payment_method=next((m for m in turn.payment_methods() if m.pk == payment_method_id), None),
            address=address,
            known=flow,
        )
    except MerchantError as error:
        return _merchant_failed(error)
    except PreviewIncomplete as error:
        return _failed(f"The shop cannot price this order yet: {error.message}", code=error.details.get("code"))
    except OrderingError as error:
        return _failed(error.message)
    turn.cart_flow_written(flow)
    preview = flow.preview
    message_data = {
        "kind": "preview",
        "flow_id": str(flow.pk),
        "preview": preview_public(flow),
        "cart_edit": _cart_edit(turn),
    }
    blocked = _placement_blocker(turn, flow)
    if blocked is not None:
        # Invariant: a preview that can never be placed is not offered for confirmation; it says why. Nor does
        # it hold the items at the shop: its session is canceled (the lines stay in the cart, for a change).
        released = flow_hold_release(
            flow_id=flow.pk,
            reason=PREVIEW_BLOCKED,
            customer_id=turn.customer_id,
            actor_type="agent",
            tell_customer=False,
        )
        turn.state["shown_preview_hash"] = ""
        if released is not None:
            turn.state.update(flow_id=None, released={"flow_id": str(flow.pk), "reason": PREVIEW_BLOCKED})
            turn.cart_flow_written(None)
        turn.save_state()
        message_data.update(kind="preview_blocked", blocked=blocked)
        return ToolResult(
            ok=True,
            data={"flow_id": str(flow.pk), "blocked": blocked, "total": preview["total"], "held": False},
            say=f"{preview_text(preview).rsplit(' Confirm', 1)[0]} I can't place this order: {blocked['message']} "
            f"You can change this on your settings page: {blocked['settings_url']}",
            message_data=message_data,
        )
    turn.state["shown_preview_hash"] = flow.preview_hash
    turn.save_state()
    return ToolResult(
        ok=True,
        data={
            "flow_id": str(flow.pk),
            "preview_hash": flow.preview_hash,
            "total": preview["total"],
            "currency": preview["currency"],
            "lines": len(preview["lines"]),
        },
        say=preview_text(preview),
        message_data=message_data,
    )


def _reopen_released_cart(turn: Turn) -> OrderFlow | ToolResult:
    """A new checkout session (and flow) for a cart whose hold was released; for a preview released because it
    could not be placed, only once nothing stands in the way any more (the customer's limits are checked on
    the released preview's total first, so a refused yes does not hold the items again)."""
    released = turn.state.get("released") or {}
    if released.get("reason") == PREVIEW_BLOCKED:
        earlier = OrderFlow.objects.filter(pk=released.get("flow_id"), conversation=turn.conversation).first()
        blocked = _placement_blocker(turn, earlier) if earlier is not None else None
        if blocked is not None:
            return ToolResult(
                ok=True,
                data={"flow_id": None, "blocked": blocked, "held": False},
                say=f"I still can't place this order: {blocked['message']} "
                f"You can change this on your settings page: {blocked['settings_url']}",
                message_data={"kind": "refusal", "blocked": blocked},
            )
    session = _sync(turn, _snapshot(turn))
    if isinstance(session, ToolResult):
        return session
    flow = turn.cart_flow()
    return flow if flow is not None else _failed("The cart is empty; there is nothing to preview.")


def _placement_blocker(turn: Turn, flow: OrderFlow) -> dict[str, Any] | None:
    """What in the customer's own settings stands in the way of placing this preview, if anything."""
    try:
        profile = order_placement_check(
            user_id=turn.customer_id,
            amount=flow.total_amount or 0,
            currency=flow.currency,
            chat_session_reference=str(flow.conversation_id),
        )
    except ConsentDenied as error:
        return {"reason": error.code, "scope": str(error.scope), "message": error.message,
                "settings_url": reverse("consent-settings")}  # fmt: skip
    except SpendCapExceeded as error:
        return {
            "reason": error.code,
            "cap": error.cap,
            "limit": error.limit,
            "left": max(error.limit - error.used, 0),
            "currency": error.currency,
            "message": error.message,
            "settings_url": reverse("consent-settings"),
            # The spend policy that set the ceiling (consent/policies), kept with the decision.
            "policy_version": error.policy_version,
        }
    turn.placement_profile = (profile,)
    return None


def _cart_edit(turn: Turn) -> list[dict[str, Any]]:
    """What each line can be changed to from the preview card, from products already fetched this turn
    (a line whose product was not fetched offers quantity and remove only)."""
    lines = []
    for line in turn.state["cart"]:
        product = turn.products.get(line["product_id"])
        variants = product.variants if product else ()
        same = next((v for v in variants if v.id == line["variant_id"]), None)
        # What this cart holds is reserved for it: it can keep those units plus what is still on hand.
        held_here = line["quantity"] - turn.reserved_since_fetch.get(line["variant_id"], 0)
        available = (same.available + held_here) if same else line["quantity"]
        colour, size = line.get("colour"), line.get("size")
        lines.append(
            {
                "variant_id": line["variant_id"],
                "product_id": line["product_id"],
                "title": line["title"],
                "quantity": line["quantity"],
                "max_quantity": max(line["quantity"], min(MAX_QUANTITY, available)),
                "size": size,
                "sizes": sorted({v.size for v in variants if v.size and v.colour == colour and v.available > 0}),
                "colour": colour,
                "colours": sorted(
                    {v.colour for v in variants if v.colour and (v.size or None) == size and v.available > 0}
                ),
            }
        )
    return lines


_STATUS_WORDS = {
    FlowStatus.DRAFT: "is a cart, not ordered yet",
    FlowStatus.PREVIEWED: "is waiting for your confirmation",
    FlowStatus.CONFIRMED: "is confirmed and about to be placed",
    FlowStatus.PLACING: "is being placed with the shop",
    FlowStatus.PLACED: "is placed",
    FlowStatus.REQUIRES_ACTION: "needs a verification before it can go through",
    FlowStatus.FAILED: "did not go through; nothing was charged",
    FlowStatus.COMPENSATING: "did not go through; I am undoing what was started",
    FlowStatus.COMPENSATED: "did not go through; everything was undone",
    FlowStatus.ESCALATED: "is with a specialist",
    FlowStatus.CANCELED: "was canceled",
    FlowStatus.EXPIRED: "expired before it was confirmed",
}


def _flow_for(turn: Turn, which: str) -> OrderFlow | None:
    """The order a customer means: this conversation's cart, else their latest order of any conversation."""
    if which == "current":
        flow = turn.cart_flow()
        if flow is not None:
            return flow
    return order_latest_for_customer(customer_id=turn.customer_id) or (
        OrderFlow.objects.filter(conversation=turn.conversation).order_by("-created_at").first()
    )


def _merchant_order_status(flow: OrderFlow) -> str:
    """The shop's own word on a placed order (shipped, canceled…), when it answers."""
    if not flow.merchant_order_id:
        return ""
    try:
        order = get_merchant(flow.merchant_id).orders.get(order_id=flow.merchant_order_id)
    except MerchantError:
        return ""
    return str(getattr(order, "status", "") or "")


def _order_line(flow: OrderFlow) -> str:
    preview = flow.preview or {}
    items = ", ".join(f"{line['quantity']}x {line['title']}" for line in preview.get("lines", [])[:5]) or "your order"
    total = f" ({format_money(flow.total_amount, flow.currency)})" if flow.total_amount is not None else ""
    words = _STATUS_WORDS.get(flow.status, flow.status)
    text = f"{items}{total} {words}"
    if flow.merchant_order_id:
        shop_status = _merchant_order_status(flow)
        text += f"; the shop's order number is {flow.merchant_order_id}"
        if shop_status and shop_status not in ("confirmed", "created", "placed"):
            text += f" and the shop says it is {shop_status.replace('_', ' ')}"
    return text


def order_status(turn: Turn, args: dict) -> ToolResult:
    which = args.get("which", "last")
    if which == "all":
        flows = list(orders_for_customer(customer_id=turn.customer_id, limit=5))
        if not flows:
            return ToolResult(ok=True, data={"orders": []}, say="You have no orders yet.")
        said = (
            "Your latest orders: "
            + "; ".join(f"{flow.confirmed_at:%b %d}: {_order_line(flow)}" for flow in flows)
            + "."
        )
        return ToolResult(
            ok=True,
            data={"orders": [{"flow_id": str(f.pk), "status": f.status} for f in flows]},
            say=said,
            message_data={"kind": "order_history"},
        )
    flow = _flow_for(turn, which)
    if flow is None:
        return ToolResult(ok=True, data={"flow": None}, say="You have no orders yet.")
    return ToolResult(
        ok=True,
        data={"flow_id": str(flow.pk), "status": flow.status, "merchant_order_id": flow.merchant_order_id},
        say=f"Your order: {_order_line(flow)}.",
        message_data={"kind": "flow_status", "flow_id": str(flow.pk), "status": flow.status},
    )


def cancel_order(turn: Turn, args: dict) -> ToolResult:
    if args.get("which", "current") == "current" and turn.state["cart"] and turn.cart_flow() is None:
        cart_released_noted(turn)
    if args.get("which", "current") == "current" and turn.state["cart"] and not turn.state["flow_id"]:
        # A cart whose hold was released already: nothing is held or ordered, only the lines go.
        cart_reset(turn.state)
        turn.save_state()
        return ToolResult(
            ok=True,
            data={"flow_id": None, "status": "canceled"},
            say="Canceled. Nothing was ordered or charged, and the items are released.",
            message_data={"kind": "flow_canceled"},
        )
    flow = _flow_for(turn, args.get("which", "current"))
    if flow is None:
        return _failed("There is no order to cancel.")
    if flow.status == FlowStatus.PLACED:
        # A placed order is canceled at the shop only after the customer says yes to this very order.
        return ToolResult(
            ok=True,
            data={"flow_id": str(flow.pk), "status": flow.status, "needs_confirmation": True},
            say=f"Your order {_order_line(flow)}. Should I ask the shop to cancel it? Reply yes to cancel it.",
            message_data={"kind": "question", "flow_id": str(flow.pk)},
        )
    if flow.status == FlowStatus.CANCELED:
        return ToolResult(ok=True, data={"status": flow.status}, say="That order was already canceled.")
    try:
        flow = flow_cancel(
            flow_id=flow.pk,
            actor_type="customer",
            actor_id=turn.customer_id,
            reason="customer_canceled",
            customer_id=turn.customer_id,
        )
    except (FlowNotConfirmable, OrderingError) as error:
        return _failed(error.message, status=flow.status)
    if str(flow.pk) == turn.state.get("flow_id"):
        cart_reset(turn.state)
        turn.save_state()
    return ToolResult(
        ok=True,
        data={"flow_id": str(flow.pk), "status": flow.status},
        say="Canceled. Nothing was ordered or charged, and the items are released.",
        message_data={"kind": "flow_canceled", "flow_id": str(flow.pk)},
    )


def cancel_placed_order(turn: Turn, args: dict) -> ToolResult:
    """Cancel a placed order at the shop; the policy calls it only after the customer's explicit yes."""
    flow = OrderFlow.objects.filter(pk=args["flow_id"], customer_id=turn.customer_id).first()
    if flow is None:
        return _failed("There is no such order.")
    try:
        status = flow_order_cancel(flow_id=flow.pk, customer_id=turn.customer_id)
    except MerchantError as error:
        return _merchant_failed(error)
    except OrderingError as error:
        return _failed(error.message)
    if status in ("canceled", "refunded"):
        say = f"Done: the shop canceled order {flow.merchant_order_id}" + (
            " and refunded it." if status == "refunded" else "; your refund follows from the shop."
        )
    else:
        say = f"I asked the shop to cancel order {flow.merchant_order_id}; it says the order is {status}."
    return ToolResult(
        ok=True,
        data={"flow_id": str(flow.pk), "merchant_status": status},
        say=say,
        message_data={"kind": "order_canceled", "flow_id": str(flow.pk)},
    )


def answer_product_question(turn: Turn, args: dict) -> ToolResult:
    """Price, stock, sizes, colours or details of one product, in words rendered here from the shop's data."""
    product = _product_or_failure(turn, args["product_id"])
    if isinstance(product, ToolResult):
        return product
    aspect = args.get("aspect", "details")
    size = (args.get("size") or "").upper()
    colour = (args.get("colour") or "").lower()
    title = product.title[:120]
    in_stock = [v for v in product.variants if v.available > 0]
    sizes = sorted({v.size for v in in_stock if v.size}, key=lambda s: (len(s), s))
    colours = sorted({v.colour for v in in_stock if v.colour})
    price = format_money(product.price.amount, product.price.currency)
    if size or colour:
        fitting = [
            v for v in in_stock if (not size or (v.size or "").upper() == size) and (not colour or v.colour == colour)
        ]
        what = " ".join(part for part in (colour, f"size {size}" if size else "") if part)
        if fitting:
            units = sum(v.available for v in fitting)
            say = f"Yes, the {title} is in stock in {what} ({units} left), at {price}."
        else:
            say = f"Sorry, the {title} is not available in {what}."
            if sizes:
                say += f" In stock: sizes {', '.join(sizes)}"
                say += f"; colours {', '.join(colours)}." if colours else "."
    elif aspect == "price":
        say = f"The {title} costs {price}."
    elif aspect in ("availability", "sizes"):
        if not in_stock:
            say = f"Sorry, the {title} is sold out."
        elif sizes:
            say = f"The {title} is in stock in sizes {', '.join(sizes)}" + (
                f" ({', '.join(colours)})." if colours else "."
            )
        else:
            say = f"The {title} is in stock" + (f" in {', '.join(colours)}." if colours else ".")
    elif aspect == "colours":
        say = f"The {title} comes in {', '.join(colours) or 'one colour'}."
    else:
        # Catalog text is quoted as data for the customer; nothing in it is followed.
        say = f"{title} ({price}): {product.description[:300]}"
    return ToolResult(
        ok=True,
        data={"product": _product_data(product)},
        say=say,
        message_data={"kind": "product_answer", "cards": [product_card(product)]},
    )


HANDOVER_TEXT = "A specialist has this conversation now and will answer you here."


def hand_over(turn: Turn, args: dict) -> ToolResult:
    reason = EscalationReason(args["reason"])
    flow = turn.cart_flow()
    with transaction.atomic():
        escalation_id = person_needed.ask(
            PersonNeeded(
                reason=reason,
                customer_id=turn.customer_id,
                conversation_id=turn.conversation.pk,
                detail=(args.get("detail") or "")[:500],
                actor_type="agent",
            )
        )
        conversation_mark_escalated(conversation_id=turn.conversation.pk)
    turn.conversation.refresh_from_db(fields=["status"])
    agent_metrics.handovers.labels(reason=reason.value).inc()
    return ToolResult(
        ok=True,
        data={"escalation_id": escalation_id, "reason": reason.value, "flow_id": str(flow.pk) if flow else None},
        say=HANDOVER_TEXT,
        message_data={"kind": "handed_over", "reason": reason.value},
    )


# -- the registry ----------------------------------------------------------------------------------

_ID = {"type": "string", "minLength": 1, "maxLength": 128}
_QUANTITY = {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY}
_NOTHING = {"type": "object", "properties": {}, "additionalProperties": False}


def _object(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


TOOLS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            "search_products",
            "Search the shop's catalog by words, optionally filtered by colour, size or category.",
            _object(
                {
                    "query": {"type": "string", "maxLength": 100},
                    "colour": {"type": "string", "maxLength": 30},
                    "size": {"type": "string", "maxLength": 10},
                    "category": {"type": "string", "maxLength": 40},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 40},
                    "price_min": {"type": "integer", "minimum": 0},
                    "price_max": {"type": "integer", "minimum": 0},
                    "sort": {"type": "string", "enum": ["relevance", "price_asc", "price_desc"]},
                    "product_ids": {"type": "array", "items": _ID, "maxItems": 10},
                },
                ("query",),
            ),
            search_products,
        ),
        ToolSpec(
            "show_product",
            "Show one product with its variants (colour, size, stock) and price.",
            _object({"product_id": _ID}, ("product_id",)),
            show_product,
        ),
        ToolSpec(
            "list_saved_items",
            "The customer's liked, viewed or purchased items at the shop, newest first, optionally only the last "
            "N days.",
            _object(
                {
                    "kind": {"type": "string", "enum": ["liked", "viewed", "purchased"]},
                    "since_days": {"type": "integer", "minimum": 1, "maximum": 365},
                    "product_ids": {"type": "array", "items": _ID, "maxItems": 40},
                },
                ("kind",),
            ),
            list_saved_items,
        ),
        ToolSpec(
            "add_to_cart",
            "Put a product variant (a specific colour and size) in the cart.",
            _object(
                {"product_id": _ID, "variant_id": _ID, "quantity": _QUANTITY}, ("product_id", "variant_id", "quantity")
            ),
            add_to_cart,
        ),
        ToolSpec(
            "update_cart_line",
            "Change the quantity of an item already in the cart, or change it to another variant or product.",
            _object(
                {"variant_id": _ID, "quantity": _QUANTITY, "new_variant_id": _ID, "product_id": _ID}, ("variant_id",)
            ),
            update_cart_line,
        ),
        ToolSpec("sync_cart", "Send the cart to the shop again as it stands.", _NOTHING, sync_cart),
        ToolSpec(
            "remove_from_cart",
            "Take an item out of the cart.",
            _object({"variant_id": _ID}, ("variant_id",)),
            remove_from_cart,
        ),
        ToolSpec(
            "list_my_promotions",
            "The customer's personal promotion codes usable now (to resolve 'my 10% promo').",
            _NOTHING,
            list_my_promotions,
        ),
        ToolSpec(
            "apply_promo",
            "Apply a promotion code to the cart; the shop decides whether it is valid.",
            _object({"code": {"type": "string", "pattern": "^[A-Za-z0-9_-]{2,40}$"}}, ("code",)),
            apply_promo,
        ),
        ToolSpec(
            "choose_shipping",
            "Choose standard or express shipping.",
            _object({"option": {"type": "string", "enum": sorted(SHIPPING_OPTIONS)}}, ("option",)),
            choose_shipping,
        ),
        ToolSpec(
            "choose_address",
            "Ship to one of the customer's saved addresses (by id or label, e.g. 'Home').",
            _object({"address_id": {"type": "integer"}, "label": {"type": "string", "maxLength": 40}}),
            choose_address,
        ),
        ToolSpec(
            "choose_payment_method",
            "Pay with one of the customer's saved cards (by id, last four digits, or brand when only one has it).",
            _object(
                {
                    "payment_method_id": {"type": "integer"},
                    "last4": {"type": "string", "pattern": "^[0-9]{4}$"},
                    "brand": {"type": "string", "maxLength": 20},
                }
            ),
            choose_payment_method,
        ),
        ToolSpec(
            "preview_order",
            "Show the customer the order preview priced by the shop (it asks them to confirm; it places nothing).",
            _NOTHING,
            preview_order,
        ),
        ToolSpec(
            "order_status",
            "The customer's orders from any conversation: this cart's (current), the latest (last) or the "
            "last few (all).",
            _object({"which": {"type": "string", "enum": ["current", "last", "all"]}}),
            order_status,
        ),
        ToolSpec(
            "cancel_order",
            "Cancel this conversation's cart (current) or the customer's latest order (last) if not placed yet.",
            _object({"which": {"type": "string", "enum": ["current", "last"]}}),
            cancel_order,
        ),
        ToolSpec(
            "cancel_placed_order",
            "Cancel a placed order at the shop (only after the customer said yes to canceling that order).",
            _object({"flow_id": _ID}, ("flow_id",)),
            cancel_placed_order,
        ),
        ToolSpec(
            "answer_product_question",
            "Answer a question about one product: price, availability, sizes, colours or details.",
            _object(
                {
                    "product_id": _ID,
                    "aspect": {"type": "string", "enum": ["price", "availability", "sizes", "colours", "details"]},
                    "size": {"type": "string", "maxLength": 10},
                    "colour": {"type": "string", "maxLength": 30},
                },
                ("product_id",),
            ),
            answer_product_question,
        ),
        ToolSpec(
            "hand_over",
            "Hand the conversation to a human specialist (the customer asked, or you cannot help).",
            _object(
                {
                    "reason": {"type": "string", "enum": ["customer_request", "agent_stuck"]},
                    "detail": {"type": "string", "maxLength": 500},
                },
                ("reason",),
            ),
            hand_over,
        ),
    )
}

# The step of the customer's journey each tool's shop calls belong to, for failures by step
# (ordering_turn_step_failures_total). Order look-ups and cancellations are after-sale, not counted here.
TOOL_STEPS: dict[str, str] = {
    "search_products": "catalog",
    "show_product": "catalog",
    "list_saved_items": "catalog",
    "answer_product_question": "catalog",
    "add_to_cart": "cart",
    "update_cart_line": "cart",
    "sync_cart": "cart",
    "remove_from_cart": "cart",
    "list_my_promotions": "cart",
    "apply_promo": "cart",
    "choose_shipping": "cart",
    "choose_address": "cart",
    "choose_payment_method": "cart",
    "preview_order": "pricing",
}
