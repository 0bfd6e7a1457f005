"""The preview tool: the order priced by the shop, shown for the customer's confirmation (it places nothing),
or refused with the reason when the customer's own settings stand in the way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.urls import reverse

from catalog_adapters.errors import MerchantError
from catalog_adapters.registry import get_merchant
from consent.exceptions import ConsentDenied, SpendCapExceeded
from consent.selectors import order_placement_check
from ordering.agent.state import MAX_QUANTITY
from ordering.agent.tools.base import ToolResult, failed, merchant_failed, sizes_in_order
from ordering.agent.tools.cart import cart_send, cart_snapshot
from ordering.errors import OrderingError, PreviewIncomplete
from ordering.holds import PREVIEW_BLOCKED, flow_hold_release, flow_hold_was_released
from ordering.models import OrderFlow
from ordering.preview import preview_text
from ordering.selectors import preview_public
from ordering.services import flow_preview

if TYPE_CHECKING:
    from catalog_adapters.contract import CheckoutSession
    from consent.models import PaymentMethod
    from ordering.agent.turn import Turn


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
        return failed("The cart is empty; there is nothing to preview.")
    payment_method_id = turn.state["payment_method_id"] or getattr(turn.payment_method_default(), "pk", None)
    address = turn.shipping_address()
    if payment_method_id is None and address is not None and turn.payment_methods():
        # cards saved and none of them the default (or the card chosen was dropped): which one is the customer's to say
        cards = [f"{card.brand.title()} ending {card.last4}" for card in turn.payment_methods()]
        listed = cards[0] if len(cards) == 1 else f"{', '.join(cards[:-1])} or {cards[-1]}"
        return failed(
            f"Which card should I use for this order: your {listed}? Say e.g. "
            f'"pay with the card ending {turn.payment_methods()[0].last4}".'
        )
    if payment_method_id is None or address is None:
        return failed("A saved card and a saved address are needed; add them on the settings page.")
    card = next((m for m in turn.payment_methods() if m.pk == payment_method_id), None)
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
            payment_method=card,
            address=address,
            known=flow,
        )
    except MerchantError as error:
        return merchant_failed(error)
    except PreviewIncomplete as error:
        return failed(f"The shop cannot price this order yet: {error.message}", code=error.details.get("code"))
    except OrderingError as error:
        return failed(error.message)
    turn.cart_flow_written(flow)
    preview = flow.preview
    message_data = {
        "kind": "preview",
        "flow_id": str(flow.pk),
        "preview": preview_public(flow),
        "cart_edit": _cart_edit(turn),
    }
    blocked = _placement_blocker(turn, flow) or _card_not_taken(turn, session, card)
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
        if blocked.get("quick_replies"):
            message_data["quick_replies"] = blocked["quick_replies"]
        return ToolResult(
            ok=True,
            data={"flow_id": str(flow.pk), "blocked": blocked, "total": preview["total"], "held": False},
            # The card beside it shows the order; the words say only what is blocked and why (never "I'll order").
            say=_blocked_words("I can't place this order", blocked),
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
                say=_blocked_words("I still can't place this order", blocked),
                message_data={"kind": "refusal", "blocked": blocked},
            )
    session = cart_send(turn, cart_snapshot(turn))
    if isinstance(session, ToolResult):
        return session
    flow = turn.cart_flow()
    return flow if flow is not None else failed("The cart is empty; there is nothing to preview.")


def _blocked_words(opening: str, blocked: dict[str, Any]) -> str:
    """What stops the order and why, said once; where to change it is the message's settings button (its
    `blocked.settings_url`), named in words only when the reason does not already name the settings page."""
    reason = str(blocked["message"]).strip()
    if reason[:4] in ("You ", "This") and not reason.startswith("This order of"):
        reason = reason[0].lower() + reason[1:]
    elif reason.startswith("This order of "):
        reason = "its total of " + reason.removeprefix("This order of ")
    said = f"{opening}: {reason}"
    if blocked.get("settings_url") and "settings" not in reason:
        said += " You can change that in your settings."
    return said


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


def _card_not_taken(turn: Turn, session: CheckoutSession, card: PaymentMethod | None) -> dict[str, Any] | None:
    """The shop's card handler names the brands it takes (`accepted_brands`) and the card chosen is not one: said
    before the customer confirms, with their saved cards it does take as quick replies (it was found only after the
    yes, when the order failed). The saga checks it again before any token (ordering/saga/steps.py)."""
    handler = session.payment_handler
    if card is None or handler is None or handler.accepts_card_brand(card.brand):
        return None
    brand = card.get_brand_display()
    others = [m for m in turn.payment_methods() if m.pk != card.pk and handler.accepts_card_brand(m.brand)]
    if others:
        masked = [m.masked for m in others]
        choices = masked[0] if len(masked) == 1 else f"{', '.join(masked[:-1])} or {masked[-1]}"
        return {
            "reason": "card_brand_not_accepted",
            "message": f"the shop doesn't take {brand} cards. You can pay with your {choices} instead.",
            "quick_replies": [
                {"label": f"Pay with {m.masked}", "text": f"Pay with the card ending {m.last4}"} for m in others
            ],
        }
    return {
        "reason": "card_brand_not_accepted",
        "message": f"the shop doesn't take {brand} cards, and none of your saved cards is one it takes.",
        "settings_url": reverse("consent-settings"),
    }


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
                "sizes": sizes_in_order(v.size for v in variants if v.size and v.colour == colour and v.available > 0),
                "colour": colour,
                "colours": sorted(
                    {v.colour for v in variants if v.colour and (v.size or None) == size and v.available > 0}
                ),
            }
        )
    return lines
