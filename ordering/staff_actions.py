"""Which staff actions fit an order flow now: ordering's rules, asked by the escalation console (#18).

The escalation console (escalations.services.escalation_action_refusal) decides what fits the
escalation (its state, its reason, who holds it); whether the *flow* can take the action is ordering's
word, read here from the flow's status, `waiting_for` and undo steps. The actions themselves are
ordering's staff services (`ordering.saga.resumes.flow_staff_*`, `ordering.services.flow_cancel`), which check
the same again under the flow's lock.
"""

from __future__ import annotations

from ordering.models import CompensationStatus, FlowStatus, OrderFlow, WaitingFor

# Actions a specialist takes on a flow, and "close" (resolving or handing back its escalation).
FLOW_STAFF_ACTIONS = frozenset(
    {"approve", "verify_payment", "confirm_payment", "retry_compensations", "cancel_flow", "close"}
)


def flow_staff_refusal(flow: OrderFlow, action: str) -> str | None:
    """Why a specialist's `action` does not fit this flow now (a sentence for the person), or None."""
    if action not in FLOW_STAFF_ACTIONS:
        raise ValueError(f"not a staff action on a flow: {action!r}")
    status = flow.get_status_display().lower()
    if action == "approve":
        if flow.waiting_for not in (WaitingFor.RISK_REVIEW, WaitingFor.STEP_UP):
            return f"The order is not waiting for a risk decision (it is {status})."
    elif action in ("verify_payment", "confirm_payment"):
        if flow.waiting_for != WaitingFor.PAYMENT_VERIFICATION:
            return f"The order is not waiting for a payment verification (it is {status})."
    elif action == "retry_compensations":
        if not flow.compensations.filter(status=CompensationStatus.FAILED).exists():
            return "Nothing of this order is waiting to be undone."
    elif action == "cancel_flow":
        if flow.status == FlowStatus.PLACED:
            return "The order was placed; it can only be canceled at the merchant now."
        if not flow.can_become(FlowStatus.CANCELED):
            return f"The order is {status}; it cannot be canceled from here."
    else:  # close: the order must not still need the specialist, nor be on its way
        # Only what the order is waiting for: which buttons can move it on depends on the escalation and who looks
        # (escalations.services says that after this sentence).
        if flow.status == FlowStatus.ESCALATED or flow.waiting_for == WaitingFor.PAYMENT_VERIFICATION:
            waits = f": {flow.get_waiting_for_display()[:1].lower()}{flow.get_waiting_for_display()[1:]}"
            return f"The order is still waiting for a specialist ({status}{waits if flow.waiting_for else ''})."
        if flow.status == FlowStatus.CONFIRMED:
            return "The order is confirmed and not placed yet."
        if flow.status == FlowStatus.PLACING:
            return "The order is being placed at the shop right now."
        if flow.status in (FlowStatus.FAILED, FlowStatus.COMPENSATING):
            return "The order failed and is being undone right now."
    return None
