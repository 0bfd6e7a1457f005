"""Order tools: the status of the customer's orders, canceling a cart or an order not placed yet, and canceling
a placed order at the shop (after the customer's yes)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from catalog_adapters.errors import MerchantError
from catalog_adapters.registry import get_merchant
from consent.formatting import format_money
from ordering.agent.state import cart_reset
from ordering.agent.tools.base import ToolResult, failed, merchant_failed
from ordering.agent.tools.preview import cart_released_noted
from ordering.errors import FlowNotConfirmable, OrderingError
from ordering.models import FlowStatus, OrderFlow
from ordering.order_events import CANCELED_STATUSES, merchant_status_advances
from ordering.selectors import order_latest_for_customer, orders_for_customer
from ordering.services import flow_cancel, flow_order_cancel

if TYPE_CHECKING:
    from ordering.agent.turn import Turn


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


def _line_matches(line: dict, wanted: dict) -> bool:
    variant = {part.strip().lower() for part in (line.get("variant") or "").split(",")}
    if wanted.get("ids") and line.get("product_id") not in wanted["ids"]:
        return False
    if wanted.get("colour") and wanted["colour"].lower() not in variant:
        return False
    return not (wanted.get("size") and wanted["size"].lower() not in variant)


def _flow_with(turn: Turn, wanted: dict) -> OrderFlow | None:
    """The customer's latest order (any conversation, the last 20) with a line of what was named; one canceled
    already only when no other has it (it is then said to be canceled)."""
    if wanted.get("product_ids"):
        # a preview's line holds the shop's item, a variant of the product named: the products' variants, from the
        # catalog's lexicon (kept by the process; the reader read the message with it)
        from ordering.agent.merchant import merchant_id_default
        from ordering.agent.understand import catalog_lexicon

        lexicon = catalog_lexicon(merchant_id_default())
        wanted = {**wanted, "ids": set(wanted["product_ids"])}
        for product_id in wanted["product_ids"]:
            entry = lexicon.by_id.get(product_id)
            wanted["ids"].update(variant.id for variant in (entry.variants if entry else ()))
    matching = [
        flow
        for flow in orders_for_customer(customer_id=turn.customer_id)
        if any(_line_matches(line, wanted) for line in (flow.preview or {}).get("lines", []))
    ]
    live = [flow for flow in matching if flow.status != FlowStatus.CANCELED]
    return (live or matching or [None])[0]


def _wanted_words(turn: Turn, wanted: dict) -> str:
    said = " ".join(filter(None, (wanted.get("colour"), wanted.get("size"))))
    if wanted.get("product_ids"):
        return f"that item{f' in {said}' if said else ''}"
    return f"a {said} item"


def _merchant_order_status(flow: OrderFlow) -> str:
    """The shop's own word on a placed order (shipped, canceled…), when it answers."""
    if not flow.merchant_order_id:
        return ""
    try:
        order = get_merchant(flow.merchant_id).orders.get(order_id=flow.merchant_order_id)
    except MerchantError:
        return ""
    return str(getattr(order, "status", "") or "").strip().lower()


def _shop_status(flow: OrderFlow) -> str:
    """The shop's latest word on the order: what its webhooks reported (`merchant_order_status`, as the settings
    page shows it), or what it answers now when that is further on (shipped since its last event). Never an
    earlier stage than the one recorded: its API may answer confirmed for an order it told us it canceled."""
    live = _merchant_order_status(flow)
    return (
        live if merchant_status_advances(current=flow.merchant_order_status, new=live) else flow.merchant_order_status
    )


def _placed_words(flow: OrderFlow, shop_status: str) -> str:
    """A placed order after what the shop did to it, as the settings page says it (ordering.account): canceled
    by the shop, refunded in full, or placed with part of it refunded."""
    refunded = format_money(flow.refunded_amount, flow.currency)
    if shop_status in CANCELED_STATUSES:
        return "was canceled by the shop" + (f" and {refunded} was refunded" if flow.refunded_amount else "")
    if flow.refunded_amount and flow.refunded_amount >= (flow.total_amount or 0):
        return f"was refunded in full by the shop ({refunded})"
    if flow.refunded_amount:
        return f"is placed and the shop refunded {refunded} of it"
    return _STATUS_WORDS[FlowStatus.PLACED]


def _line_words(line: dict) -> str:
    variant = line.get("variant") or ""
    return f"{line['quantity']}x {line['title']}" + (f" ({variant})" if variant else "")


def _order_items(flow: OrderFlow) -> str:
    # with its colour and size: two orders of the same product read the same without them
    return ", ".join(_line_words(line) for line in (flow.preview or {}).get("lines", [])[:5]) or "your order"


def _order_line(flow: OrderFlow, shop_status: str | None = None) -> str:
    """The order in a sentence; `shop_status`: the shop's word on it when the caller asked already (one request)."""
    items = _order_items(flow)
    total = f" ({format_money(flow.total_amount, flow.currency)})" if flow.total_amount is not None else ""
    words = _STATUS_WORDS.get(flow.status, flow.status)
    if not flow.merchant_order_id:
        return f"{items}{total} {words}"
    if shop_status is None:
        shop_status = _shop_status(flow)
    if flow.status == FlowStatus.PLACED:
        words = _placed_words(flow, shop_status)
    text = f"{items}{total} {words}; the shop's order number is {flow.merchant_order_id}"
    if shop_status and shop_status not in ("confirmed", "created", "placed", *CANCELED_STATUSES):
        text += f" and the shop says it is {shop_status.replace('_', ' ')}"
    return text


def _paid_and_sent(flow: OrderFlow, shop_status: str = "") -> str:
    """ " It is paid with Visa •••• 4242 and goes to Home.": what the order's preview said ("which card did that go
    on?", "what address is it going to?" after the order); of an order the shop canceled, only the card it was
    paid with (where the refund goes)."""
    preview = flow.preview or {}
    payment = preview.get("payment") or {}
    ship_to = preview.get("ship_to") or {}
    label = ship_to.get("label") if isinstance(ship_to, dict) else ""
    canceled = shop_status in CANCELED_STATUSES
    parts = []
    if payment.get("last4"):
        card = f"{str(payment.get('brand') or 'card').title()} •••• {payment['last4']}"
        parts.append(f"was paid with {card}" if canceled else f"is paid with {card}")
    if label and not canceled:
        parts.append(f"goes to {label}")
    return f" It {' and '.join(parts)}." if parts else ""


def arrival_words(flow: OrderFlow, shop_status: str | None = None) -> str:
    """ " The shop expects it between Tue Dec 8 and Thu Dec 10.", from the shipping the shop quoted at the preview (a
    placed or placing order only): "when will it arrive?" was answered with the status alone. Nothing once the shop
    canceled the order or delivered it (`shop_status`: its word, when the caller asked already)."""
    delivery = (flow.preview or {}).get("delivery") or {}
    if flow.status not in (FlowStatus.CONFIRMED, FlowStatus.PLACING, FlowStatus.PLACED) or not delivery:
        return ""
    if shop_status is None:
        shop_status = flow.merchant_order_status
    if shop_status in CANCELED_STATUSES or shop_status == "completed":
        return ""
    days = []
    for key in ("earliest", "latest"):
        try:
            moment = date.fromisoformat(delivery.get(key) or "")
        except ValueError:
            continue
        days.append(f"{moment:%a %b} {moment.day}")
    if not days:
        return ""
    if len(days) == 1 or days[0] == days[-1]:
        return f" The shop expects it on {days[0]}."
    return f" The shop expects it between {days[0]} and {days[-1]}."


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
    shop_status = _shop_status(flow) if flow.merchant_order_id else ""
    said = f"{_order_line(flow, shop_status)}.{_paid_and_sent(flow, shop_status)}{arrival_words(flow, shop_status)}"
    return ToolResult(
        ok=True,
        data={"flow_id": str(flow.pk), "status": flow.status, "merchant_order_id": flow.merchant_order_id},
        say=f"Your order: {said}",
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
    wanted = {key: args[key] for key in ("product_ids", "colour", "size") if args.get(key)}
    flow = _flow_with(turn, wanted) if wanted else _flow_for(turn, args.get("which", "current"))
    if flow is None and wanted:
        # never the latest order instead: "cancel the beanie order" canceled the headlamp ordered after it
        return failed(
            f"I can't find a recent order with {_wanted_words(turn, wanted)}, so I haven't canceled anything. "
            'Say "my orders" to see them.'
        )
    if flow is None:
        return failed("There is no order to cancel.")
    shop_status = _shop_status(flow) if flow.status == FlowStatus.PLACED else ""
    if shop_status in (*CANCELED_STATUSES, "refunded"):
        # canceled at the shop already (asked twice): nothing to ask again
        return ToolResult(
            ok=True,
            data={"flow_id": str(flow.pk), "status": "canceled"},
            say=f"Your order {flow.merchant_order_id} ({_order_items(flow)}) is already canceled at the shop.",
        )
    if flow.status == FlowStatus.PLACED:
        # A placed order is canceled at the shop only after the customer says yes to this very order.
        return ToolResult(
            ok=True,
            data={"flow_id": str(flow.pk), "status": flow.status, "needs_confirmation": True},
            say=f"Your order {_order_line(flow, shop_status)}. Should I ask the shop to cancel it? "
            "Reply yes to cancel it.",
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
        return failed(error.message, status=flow.status)
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
        return failed("There is no such order.")
    try:
        status = flow_order_cancel(flow_id=flow.pk, customer_id=turn.customer_id)
    except MerchantError as error:
        return merchant_failed(error)
    except OrderingError as error:
        return failed(error.message)
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
