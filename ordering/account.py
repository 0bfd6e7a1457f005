"""The customer's orders on their settings page: the "Your orders" section.

The page is consent's (`/settings/`); the orders are ours, so ordering draws this section through
`consent.hooks.account_sections` (registered in OrderingConfig.ready) and consent never imports ordering.
Only the signed-in customer's orders, from every conversation (the selector filters by customer).
"""

from __future__ import annotations

from consent.formatting import format_money
from consent.hooks import AccountSection
from ordering.models import FlowStatus, OrderFlow
from ordering.selectors import orders_for_customer

ORDERS_ON_PAGE = 20
# An order's state as the customer would say it (the flow's statuses are the saga's words).
ORDER_STATUS_WORDS: dict[str, str] = {
    FlowStatus.PREVIEWED: "Waiting for you to confirm the new price",
    FlowStatus.CONFIRMED: "Being placed",
    FlowStatus.PLACING: "Being placed",
    FlowStatus.PLACED: "Placed",
    FlowStatus.REQUIRES_ACTION: "Waiting for a payment check",
    FlowStatus.ESCALATED: "A specialist is looking at it",
    FlowStatus.FAILED: "Not placed",
    FlowStatus.COMPENSATING: "Not placed; being undone",
    FlowStatus.COMPENSATED: "Not placed; nothing was charged",
    FlowStatus.CANCELED: "Cancelled",
    FlowStatus.EXPIRED: "Expired",
}
# The badge colour (classes of consent.css): green placed, red not placed, amber stopped.
ORDER_STATUS_TONES: dict[str, str] = {
    FlowStatus.PLACED: "ok",
    FlowStatus.FAILED: "failed",
    FlowStatus.COMPENSATING: "failed",
    FlowStatus.COMPENSATED: "failed",
    FlowStatus.CANCELED: "expired",
    FlowStatus.EXPIRED: "expired",
}


def _order_line(line: dict[str, object]) -> str:
    """One line as the customer confirmed it: "2 x Blue Runner (blue, 43)", with a times sign."""
    variant = f" ({line['variant']})" if line.get("variant") else ""
    return f"{line.get('quantity')} \N{MULTIPLICATION SIGN} {line.get('title')}{variant}"


def _order_status(flow: OrderFlow) -> tuple[str, str, str]:
    """(status, words, tone): ours until placed, then what the shop later did to the order (its webhooks)."""
    if flow.status == FlowStatus.PLACED:
        refunded = format_money(flow.refunded_amount, flow.currency) if flow.refunded_amount else ""
        if flow.merchant_order_status in ("canceled", "cancelled"):
            words = "Cancelled by the shop" + (f"; {refunded} refunded" if refunded else "")
            return "canceled_by_shop", words, "expired"
        if flow.refunded_amount and flow.refunded_amount >= (flow.total_amount or 0):
            return "refunded", f"Refunded ({refunded})", "expired"
        if flow.refunded_amount:
            return "partly_refunded", f"Placed; {refunded} refunded", "ok"
    return (
        flow.status,
        ORDER_STATUS_WORDS.get(flow.status, flow.get_status_display()),
        ORDER_STATUS_TONES.get(flow.status, "pending"),
    )


def _order_row(flow: OrderFlow) -> dict[str, object]:
    status, words, tone = _order_status(flow)
    return {
        "date": flow.placed_at or flow.confirmed_at or flow.created_at,
        "items": [_order_line(line) for line in (flow.preview or {}).get("lines", [])],
        "total": format_money(flow.total_amount, flow.currency) if flow.total_amount is not None else "—",
        "status": status,
        "status_words": words,
        "tone": tone,
        "order_number": flow.merchant_order_id if flow.status == FlowStatus.PLACED else "",
    }


def orders_section(customer_id: int) -> AccountSection:
    """consent.hooks.account_sections: the customer's latest orders, newest first (the section says when
    there are none)."""
    orders = [_order_row(flow) for flow in orders_for_customer(customer_id=customer_id, limit=ORDERS_ON_PAGE)]
    return AccountSection(template_name="ordering/account_orders.html", context={"orders": orders})
