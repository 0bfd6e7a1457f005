"""Cart tools: lines, promotion codes, shipping, address and card. Every change is sent to the shop as the
checkout session of the cart's draft flow (`ordering.agent.merchant`); a change the shop refuses is put back."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from catalog_adapters.contract import Product
from catalog_adapters.errors import MerchantClientError, MerchantError
from consent.selectors import addresses_for_customer, payment_methods_for_customer
from ordering.agent import merchant as shop
from ordering.agent.state import MAX_QUANTITY, SHIPPING_OPTIONS, cart_reset
from ordering.agent.tools.base import ToolResult, failed, merchant_failed
from ordering.agent.tools.catalog import product_card, product_get
from ordering.errors import OrderingError

if TYPE_CHECKING:
    from ordering.agent.turn import Turn


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


def cart_send(turn: Turn, before: dict[str, Any]) -> ToolResult | Any:
    """Send the cart; when the merchant refuses or fails, the cart is put back as it was (`before`)."""
    flow = turn.cart_flow()
    offered = _codes_to_offer(turn) if flow is None and turn.state["cart"] else ()
    try:
        # No transaction around it: the merchant is called here, and a lock must never wait on a foreign call.
        try:
            flow, session = shop.cart_sync(
                conversation=turn.conversation, state=turn.state, flow=flow, buyer=turn.buyer(), offer_codes=offered
            )
        except MerchantClientError as error:
            if not offered or error.retry_later:
                raise
            # The shop refused the create that carried the codes (nothing was created): the cart goes alone,
            # and the codes are applied afterwards as they would have been without the offer.
            offered = ()
            flow, session = shop.cart_sync(
                conversation=turn.conversation, state=turn.state, flow=None, buyer=turn.buyer()
            )
    except (MerchantError, OrderingError) as error:
        # The session may have changed at the shop anyway (an unknown outcome): a preview reads it afresh.
        turn.checkout_sessions.clear()
        version = turn.state["cart_version"]
        turn.state.clear()
        turn.state.update(before, cart_version=version)  # never reuse an operation id for another body
        turn.save_state()
        if isinstance(error, MerchantError):
            return merchant_failed(error)
        return failed(error.message)
    if offered and session is not None:
        applied = {discount.code.upper() for discount in session.applied_discounts}
        for code in offered:
            # A code the shop applied is the cart's from now on (later changes send it); a refused one is not,
            # and `apply_promo` explains it from this answer.
            if code in applied:
                turn.state["promo_codes"].append(code)
            turn.codes_created_with[code] = session
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


def _codes_to_offer(turn: Turn) -> tuple[str, ...]:
    """The codes the turn will apply, for the create about to be sent (each offered once)."""
    codes = tuple(code for code in turn.codes_on_create if code not in turn.state["promo_codes"])
    turn.codes_on_create = []
    return codes


def cart_snapshot(turn: Turn) -> dict[str, Any]:
    return copy.deepcopy(turn.state)


def _fresh_cart(turn: Turn) -> None:
    """Start a new cart when the previous one became an order (or was stopped)."""
    if turn.state["flow_id"] and turn.cart_flow() is None:
        cart_reset(turn.state)


def add_to_cart(turn: Turn, args: dict) -> ToolResult:
    before = cart_snapshot(turn)
    _fresh_cart(turn)
    try:
        product = product_get(turn, args["product_id"])
    except MerchantError as error:
        return merchant_failed(error)
    variant = next((v for v in product.variants if v.id == args["variant_id"]), None)
    if variant is None:
        return failed("That variant does not belong to that product.", product_id=product.id)
    if variant.available < args["quantity"]:
        return failed("Not enough in stock.", available=variant.available, variant_id=variant.id)
    existing = next((line for line in turn.state["cart"] if line["variant_id"] == variant.id), None)
    if existing is not None:
        # The shop's `available` already leaves out what this cart holds: only the extra units must be there.
        if existing["quantity"] + args["quantity"] > MAX_QUANTITY or args["quantity"] > variant.available:
            # Never clamped: the customer is told what is possible instead (ordering.agent.policy).
            return failed("Not enough in stock.", available=variant.available, variant_id=variant.id)
        existing["quantity"] += args["quantity"]
    else:
        turn.state["cart"].append(_cart_line(product, variant, args["quantity"]))
    session = cart_send(turn, before)
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
    before = cart_snapshot(turn)
    index = next((i for i, line in enumerate(turn.state["cart"]) if line["variant_id"] == args["variant_id"]), None)
    if index is None:
        return failed("That item is not in the cart.", cart=_cart_data(turn.state))
    line = turn.state["cart"][index]
    quantity = args.get("quantity", line["quantity"])
    if args.get("new_variant_id"):
        try:
            product = product_get(turn, args.get("product_id") or line["product_id"])
        except MerchantError as error:
            return merchant_failed(error)
        variant = next((v for v in product.variants if v.id == args["new_variant_id"]), None)
        if variant is None:
            return failed("That variant does not belong to that product.", product_id=product.id)
        if variant.available < quantity:
            return failed("Not enough in stock.", available=variant.available, variant_id=variant.id)
        if any(other["variant_id"] == variant.id for other in turn.state["cart"] if other is not line):
            turn.state["cart"] = [other for other in turn.state["cart"] if other is not line]
            merged = next(other for other in turn.state["cart"] if other["variant_id"] == variant.id)
            merged["quantity"] += quantity
        else:
            turn.state["cart"][index] = _cart_line(product, variant, quantity)
    else:
        line["quantity"] = quantity
    session = cart_send(turn, before)
    if isinstance(session, ToolResult):
        return session
    return ToolResult(ok=True, data={"cart": _cart_data(turn.state), **_session_facts(session)})


def remove_from_cart(turn: Turn, args: dict) -> ToolResult:
    before = cart_snapshot(turn)
    count = len(turn.state["cart"])
    turn.state["cart"] = [line for line in turn.state["cart"] if line["variant_id"] != args["variant_id"]]
    if len(turn.state["cart"]) == count:
        return failed("That item is not in the cart.", cart=_cart_data(turn.state))
    session = cart_send(turn, before)
    if isinstance(session, ToolResult):
        return session
    return ToolResult(ok=True, data={"cart": _cart_data(turn.state), **_session_facts(session)})


def sync_cart(turn: Turn, args: dict) -> ToolResult:
    """Send the cart as it stands (after a refused code was taken off)."""
    before = cart_snapshot(turn)
    if not turn.state["cart"]:
        return ToolResult(ok=True, data={"cart": []})
    session = cart_send(turn, before)
    if isinstance(session, ToolResult):
        return session
    return ToolResult(ok=True, data={"cart": _cart_data(turn.state), **_session_facts(session)})


def list_my_promotions(turn: Turn, args: dict) -> ToolResult:
    try:
        merchant_id = shop.merchant_id_default()
        promotions = shop.promotions_for_customer(
            customer_id=turn.customer_id,
            merchant_id=merchant_id,
            account=turn.merchant_account(merchant_id),
            include_public=bool(args.get("include_public")),
        )
    except MerchantError as error:
        return merchant_failed(error)
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
                    "personal": promotion.personal,
                }
                for promotion in promotions[:10]
            ]
        },
    )


def apply_promo(turn: Turn, args: dict) -> ToolResult:
    before = cart_snapshot(turn)
    _fresh_cart(turn)
    code = args["code"].strip().upper()
    if code not in turn.state["promo_codes"]:
        turn.state["promo_codes"].append(code)
    if not turn.state["cart"]:
        turn.save_state()
        return ToolResult(ok=True, data={"code": code, "applied": None, "note": "applied when the cart has items"})
    session = turn.codes_created_with.pop(code, None)
    if session is None or turn.checkout_sessions.get(session.id) is not session or turn.cart_flow() is None:
        session = cart_send(turn, before)
        if isinstance(session, ToolResult):
            return session
    else:
        # The cart's create carried this code and nothing was sent since: the shop's answer to it is this one.
        turn.save_state()
    applied = any(applied.code.upper() == code for applied in session.applied_discounts)
    if not applied:
        # The merchant refused it (unknown, expired, minimum not met): do not keep sending it.
        turn.state["promo_codes"] = [c for c in turn.state["promo_codes"] if c != code]
        resent = cart_send(turn, before)
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
        return failed(f"The shop did not accept the code {code}.", code=code, applied=False, merchant_reason=reason)
    return ToolResult(ok=True, data={"code": code, "applied": True, **_session_facts(session)})


def choose_shipping(turn: Turn, args: dict) -> ToolResult:
    before = cart_snapshot(turn)
    _fresh_cart(turn)
    turn.state["shipping"] = SHIPPING_OPTIONS[args["option"]]
    if not turn.state["cart"]:
        turn.save_state()
        return ToolResult(ok=True, data={"shipping": args["option"]})
    session = cart_send(turn, before)
    if isinstance(session, ToolResult):
        return session
    return ToolResult(ok=True, data={"shipping": args["option"], **_session_facts(session)})


def choose_address(turn: Turn, args: dict) -> ToolResult:
    before = cart_snapshot(turn)
    addresses = addresses_for_customer(user_id=turn.customer_id)
    if args.get("address_id") is not None:
        address = addresses.filter(pk=args["address_id"]).first()
    else:
        said = (args.get("label") or "").strip()
        address = addresses.filter(label__iexact=said).first()
        if address is None and said:
            # "send it to the San Francisco one": the one saved address in that town, when only one is
            in_town = list(addresses.filter(city__iexact=said)[:2])
            address = in_town[0] if len(in_town) == 1 else None
    if address is None:
        return failed(
            "No saved address like that.", saved=[{"address_id": a.pk, "label": a.label} for a in addresses[:10]]
        )
    _fresh_cart(turn)
    turn.state["address_id"] = address.pk
    if not turn.state["cart"]:
        turn.save_state()
        return ToolResult(ok=True, data={"address": address.label})
    session = cart_send(turn, before)
    if isinstance(session, ToolResult):
        return session
    return ToolResult(ok=True, data={"address": address.label, **_session_facts(session)})


def choose_payment_method(turn: Turn, args: dict) -> ToolResult:
    methods = payment_methods_for_customer(user_id=turn.customer_id)
    saved = [{"payment_method_id": m.pk, "brand": m.brand, "last4": m.last4} for m in methods[:10]]
    if args.get("usual") and args.get("payment_method_id") is None and not args.get("last4"):
        # "my usual card": the default one; "my usual mastercard" when the default is a Visa: the one Mastercard
        brand = (args.get("brand") or "").strip()
        default = methods.filter(is_default=True).first()
        if default is not None and (not brand or default.brand.lower() == brand.lower()):
            matching = [default]
        elif brand:
            matching = list(methods.filter(brand__iexact=brand))
        elif len(saved) == 1:
            matching = list(methods[:1])  # no default set, and one card saved: that one is the usual
        else:
            return failed(
                "No saved card is set as your default.", saved=saved, ambiguous=False, matching=[], no_default=True
            )
    elif args.get("payment_method_id") is not None:
        matching = list(methods.filter(pk=args["payment_method_id"]))
    elif args.get("last4"):
        matching = list(methods.filter(last4=args["last4"].strip()))
    else:
        matching = list(methods.filter(brand__iexact=(args.get("brand") or "").strip()))
    if len(matching) > 1:
        candidates = [{"payment_method_id": m.pk, "brand": m.brand, "last4": m.last4} for m in matching[:10]]
        return failed("Several saved cards match.", saved=saved, ambiguous=True, matching=candidates)
    if not matching:
        return failed("No saved card like that.", saved=saved, ambiguous=False)
    method = matching[0]
    # The card is not sent to the shop before payment; the next preview shows it (and replaces an older one).
    turn.state["payment_method_id"] = method.pk
    turn.state["card_note"] = None  # chosen now: what the last order's card did is no longer this cart's to say
    turn.save_state()
    return ToolResult(ok=True, data={"payment": {"brand": method.brand, "last4": method.last4}})
